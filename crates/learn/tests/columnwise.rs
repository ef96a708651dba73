//! Column-wise constraints on a hand-made batch: statistical parity as the Adult example writes
//! it, its truth degree and its gradient, against values computed by hand.

use burn::prelude::*;
use burn::tensor::TensorData;
use skilang_data::{Table, Values};
use skilang_lang::check::ConstraintId;
use skilang_lang::spec::{Semantics, Value};
use skilang_learn::columnwise::{scalar_value, Batch};
use skilang_learn::observations::Observations;
use skilang_logic::{Formulas, Logic};

#[test]
fn statistical_parity_on_a_hand_made_batch() {
    let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/adult-fairness.yaml"));
    let outcome = skilang_lang::check_file(path).unwrap();
    assert!(outcome.is_valid());
    let (spec, program) = (outcome.spec.unwrap(), outcome.program.unwrap());
    let formulas = Formulas::new(&spec, &program);
    // Races by their index among the declared values: 4 = White, 2 = Black, 1 = Asian-Pac-Islander.
    let table = Table {
        rows: 5,
        columns: vec![
            ("race".into(), Values::Categories(vec![4, 4, 4, 2, 1])),
            ("income".into(), Values::Categories(vec![1, 0, 0, 0, 1])),
        ],
    };
    let observations = Observations::new(&spec, 0, &table, None);
    let device = skilang_learn::device(1);
    // P(>50K) per person: White 0.9, 0.5, 0.1 (mean 0.5); the rest 0.2, 0.4 (mean 0.3).
    let positive = [0.9f32, 0.5, 0.1, 0.2, 0.4];
    let flat: Vec<f32> = positive.iter().flat_map(|&p| [1.0 - p, p]).collect();
    let probs = Tensor::<2>::from_data(TensorData::new(flat, [5, 2]), &device).require_grad();
    assert_eq!(formulas.domain(0), [Value::Str("<=50K".into()), Value::Str(">50K".into())]);
    let rows: Vec<usize> = (0..5).collect();
    let batch = Batch {
        formulas: &formulas,
        observations: &observations,
        rows: &rows,
        probs: vec![Some(probs.clone())],
        logic: Logic::new(Semantics::Product, None),
        device: &device,
    };
    let out = batch.constraint(ConstraintId::at(1)).unwrap().expect("both groups are in the batch");
    let sp = out.lhs.unwrap();
    assert!((sp - 0.2).abs() < 1e-6, "SP {sp}");
    // SP <= 0.01 as a hinge: truth 1 − (0.2 − 0.01).
    let truth = scalar_value(out.truth.clone());
    assert!((truth - 0.81).abs() < 1e-6, "truth {truth}");
    // ∂truth/∂P(>50K) is −1/3 for each White person and +1/2 for each of the others.
    let grads = out.truth.backward();
    let g: Vec<f32> = probs.grad(&grads).unwrap().into_data().iter::<f32>().collect();
    let expected = [-1.0 / 3.0, -1.0 / 3.0, -1.0 / 3.0, 0.5, 0.5];
    for (row, e) in expected.iter().enumerate() {
        assert!(
            (g[2 * row + 1] - e).abs() < 1e-6 && g[2 * row].abs() < 1e-6,
            "row {row}: {:?}",
            &g[2 * row..2 * row + 2]
        );
    }
    // The supervision constraint is instance-wise: the column-wise evaluator refuses `person`.
    assert!(batch.constraint(ConstraintId::at(0)).is_err());
}
