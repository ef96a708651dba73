//! The poker rules of `examples/poker-hand.yaml`, evaluated crisply on the 25,010 UCI training
//! hands: for every hand exactly one guard holds, and its constraint names the hand's class.

use skilang_lang::spec::Value;
use skilang_learn::weak::Observations;
use skilang_logic::{Atom, Grounder, Memo, Observed};
use std::path::{Path, PathBuf};

fn data_dir() -> PathBuf {
    let dir = std::env::var_os("SKILANG_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    assert!(dir.is_dir(), "this test reads real data: set SKILANG_DATA ({} is missing)", dir.display());
    dir
}

#[test]
fn the_rules_classify_every_training_hand() {
    let spec_path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/poker-hand.yaml"));
    // The same spec, reading the training file alone (the test file may be absent).
    let text = std::fs::read_to_string(spec_path).unwrap().replace(
        "    source: poker-hand\n",
        "    training: {file: poker_hand/poker-hand-training-true.data.gz, format: csv, separator: ','}\n",
    );
    let outcome = skilang_lang::check_source(spec_path, text);
    assert!(outcome.is_valid(), "{:?}", outcome.diagnostics);
    let (spec, program) = (outcome.spec.unwrap(), outcome.program.unwrap());
    let dataset = &spec.datasets[0];
    let data = skilang_data::load(dataset, &data_dir(), 1).unwrap();
    let grounder = Grounder::new(&spec, &program);
    let classes = grounder.domain(0).to_vec();
    let mut hands = 0;
    for table in [&data.train, &data.test] {
        let observations = Observations::new(dataset, table);
        for row in 0..table.rows {
            let observe = |_: usize, column: &str| observations.value(row, column);
            let (mut named, mut memo) = (Vec::new(), Memo::default());
            for c in 0..spec.constraints.len() {
                if let Some(g) = grounder.ground_with(c, &observe, &mut memo).unwrap() {
                    // The guard held; what is left is `classify(h) == class`.
                    let [Atom::Table { allowed, .. }] = g.event.atoms.as_slice() else { panic!("{g:?}") };
                    named.extend(allowed.iter().enumerate().filter(|(_, &ok)| ok).map(|(k, _)| k));
                }
            }
            assert_eq!(named.len(), 1, "hand {row}: guards name classes {named:?}");
            let Some(Observed::Str(gold)) = observations.value(row, "hand") else { panic!("hand {row} has no class") };
            assert_eq!(classes[named[0]], Value::Str(gold), "hand {row}");
            hands += 1;
        }
    }
    assert_eq!(hands, 25_010);
}
