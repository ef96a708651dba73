//! The poker rules of `examples/poker-hand.yaml`, evaluated crisply on the 25,010 UCI training
//! hands: for every hand exactly one guard holds, and its constraint names the hand's class.

use skilang_data::Data;
use skilang_lang::check::{ColumnId, ConstraintId, Program};
use skilang_lang::spec::{BuiltinSource, Spec, Value};
use skilang_learn::observations::Observations;
use skilang_logic::{Atom, Formulas, Memo, Observed};
use std::path::{Path, PathBuf};

/// The data directory as the tests resolve it, with the Poker Hand training file in it.
fn data_dir() -> PathBuf {
    let dir = skilang_data::dir::for_checkout(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")));
    skilang_data::catalog::ensure(&[BuiltinSource::PokerHand], &dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

/// The example's spec reading the training file alone (the test file may be absent; its test
/// split is then 20% of the training hands), its checked program and its data.
fn poker() -> (Spec, Program, Data) {
    let spec_path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/poker-hand.yaml"));
    let text = std::fs::read_to_string(spec_path).unwrap().replace(
        "    source: poker-hand\n",
        "    training: {file: poker_hand/poker-hand-training-true.data.gz, format: csv, separator: ','}\n",
    );
    let outcome = skilang_lang::check_source(spec_path, text);
    assert!(outcome.is_valid(), "{:?}", outcome.diagnostics);
    let (spec, program) = (outcome.spec.unwrap(), outcome.program.unwrap());
    let data = skilang_data::load(&spec.datasets[0], &data_dir(), 1).unwrap();
    (spec, program, data)
}

#[test]
fn the_rules_classify_every_training_hand() {
    let (spec, program, data) = poker();
    let grounder = Formulas::new(&spec, &program);
    let classes = grounder.domain(0).to_vec();
    let mut hands = 0;
    for table in [&data.train, &data.test] {
        let observations = Observations::new(&spec, 0, table, None);
        for row in 0..table.rows {
            let observe = |_: usize, column: ColumnId| observations.value(row, column);
            let (mut named, mut memo) = (Vec::new(), Memo::default());
            // Constraint 0 is the supervision; the other ten are the rules.
            for c in 1..spec.constraints.len() {
                if let Some(g) = grounder.ground_with(ConstraintId::at(c), &observe, &mut memo).unwrap() {
                    // The guard held; what is left is `classify(h) == class`.
                    let [Atom::Table { allowed, .. }] = g.event.atoms.as_slice() else { panic!("{g:?}") };
                    named.extend(allowed.iter().enumerate().filter(|(_, &ok)| ok).map(|(k, _)| k));
                }
            }
            assert_eq!(named.len(), 1, "hand {row}: guards name classes {named:?}");
            let Some(Observed::Str(gold)) = observations.value(row, program.learnables[0].output_column) else {
                panic!("hand {row} has no class")
            };
            assert_eq!(classes[named[0]], Value::Str(gold), "hand {row}");
            hands += 1;
        }
    }
    assert_eq!(hands, 25_010);
}

/// Embedding and structuring read the same rules as units: on every training hand exactly one
/// guard's unit holds, the one of the hand's class; and a structured network that has not seen a
/// single hand (its MLP part random) already predicts every hand's class from its rule units.
#[test]
fn rule_units_classify_every_training_hand_before_training() {
    use skilang_learn::input::input_tensor;
    use skilang_learn::input::InputShape;
    use skilang_learn::model::{expand, Net};
    use skilang_learn::rules::{leaf_values, RuleLayer};
    let (spec, program, data) = poker();
    let dataset = &spec.datasets[0];
    let rules = skilang_logic::rulenet::rule_net(&spec, &program, "structuring").unwrap();
    let grounder = Formulas::new(&spec, &program);
    let device = skilang_learn::device(1);
    let classes = grounder.domain(0).len();
    let learnable = &spec.learnables[0];
    let info = &program.learnables[0];
    let inputs: Vec<_> = info.input_columns.iter().map(|c| c.column(&spec)).collect();
    let task = skilang_learn::task::task(learnable, dataset, &data, &inputs, info.output_column.column(&spec)).unwrap();
    let width = task.train.inputs.width() + rules.leaves.len();
    let net = Net::structured(
        &learnable.name.name,
        &expand(&learnable.model),
        width,
        classes,
        RuleLayer::new(&rules, 0, classes, &device),
        rules.leaves.len(),
        &device,
    )
    .unwrap();
    let mut hands = 0;
    for (table, split) in [(&data.train, &task.train), (&data.test, &task.test)] {
        let leaves = leaf_values(&rules, &grounder, &spec, 0, table).unwrap();
        let mut inputs = split.inputs.clone();
        skilang_learn::rules::append(&mut inputs, &leaves, rules.leaves.len()).unwrap();
        for (row, l) in leaves.chunks_exact(rules.leaves.len()).enumerate() {
            let units = rules.unit_values(l);
            let named: Vec<usize> = rules.guards.iter().filter(|g| units[g.unit] == 1.0).map(|g| g.class).collect();
            assert_eq!(named, [split.labels[row] as usize], "hand {row}");
        }
        let rows: Vec<usize> = (0..table.rows).collect();
        for chunk in rows.chunks(4096) {
            let x = input_tensor(InputShape::Vector(width), inputs.rows(chunk), chunk.len(), &device);
            let predicted: Vec<i64> = net.forward(x).argmax(1).into_data().iter::<i64>().collect();
            for (&row, &p) in chunk.iter().zip(&predicted) {
                assert_eq!(p as u32, split.labels[row], "hand {row}: the untrained structured network");
            }
        }
        hands += table.rows;
    }
    assert_eq!(hands, 25_010);
}
