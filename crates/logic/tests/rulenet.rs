//! Rules over observed inputs as logic units (embedding, structuring): the units' crisp truths
//! are the guards' truths, KBANN's initial weights compute the same truths, and specs the units
//! cannot express are refused with the constraint and the reason.

use skilang_lang::check::ColumnId;
use skilang_lang::check_source;
use skilang_logic::rulenet::rule_net;
use skilang_logic::{Formulas, Node, Observed};

const SPEC: &str = "data:
  t:
    training: {file: t.csv}
    features:
      - {name: a, values: [0, 1, 2]}
      - {name: b, values: [0, 1, 2]}
      - {name: c, values: [0, 1, 2]}
      - {name: d, type: bool}
    targets: [{name: y, values: [low, mid, high, odd]}]
    instance_name: r
learnables:
  f: {input: t.features, output: t.y, architecture: mlp}
knowledge:
  - {rule: same, args: [r], clause: r.a == r.b == r.c}
  - {rule: rising, args: [r], clause: r.a < r.b and r.b < r.c}
  - {rule: Low, args: [r], clause: same(r) and not r.d}
  - {rule: Mid, args: [r], clause: (rising(r) or r.a + r.b == 3) and not same(r)}
  - {rule: High, args: [r], clause: not (same(r) or rising(r) or r.a + r.b == 3) and (r.d or r.c == 2)}
constraints:
";

fn spec(constraints: &str) -> (skilang_lang::spec::Spec, skilang_lang::check::Program) {
    let outcome = check_source("t.yaml", format!("{SPEC}{constraints}"));
    assert!(outcome.is_valid(), "{:?}", outcome.diagnostics);
    (outcome.spec.unwrap(), outcome.program.unwrap())
}

const GUARDED: &str = "  - {if: Low(r), then: f(r) == low}
  - {if: Mid(r), then: f(r) == mid}
  - {if: High(r), then: mid == f(r), weight: 2}
  - {if: not Low(r) and not Mid(r) and not High(r), then: f(r) == odd}
";

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn units_compute_the_guards_crisply_and_as_initial_neurons() {
    let (spec, program) = spec(GUARDED);
    let net = rule_net(&spec, &program, "structuring").unwrap();
    let grounder = Formulas::new(&spec, &program);
    assert_eq!(net.guards.iter().map(|g| g.class).collect::<Vec<_>>(), [0, 1, 1, 3]);
    // Rules called by several guards have one unit.
    assert_eq!(net.units.iter().filter(|u| u.name == "same").count(), 1);
    for row in 0..54 {
        let (a, b, c, d) = (row % 3, row / 3 % 3, row / 9 % 3, row / 27 == 1);
        let observe = |_: usize, column: ColumnId| match column.column(&spec).name.name.as_str() {
            "a" => Some(Observed::Int(a as i64)),
            "b" => Some(Observed::Int(b as i64)),
            "c" => Some(Observed::Int(c as i64)),
            "d" => Some(Observed::Bool(d)),
            _ => None,
        };
        let leaves = net.leaf_values(&grounder, &observe).unwrap();
        let crisp = net.unit_values(&leaves);
        // KBANN's neurons at their initial weights, on the same leaves.
        let mut values = leaves.clone();
        for k in 0..net.units.len() {
            let (w, bias) = net.initial_weights(k, 8.0);
            let x: f32 = net.units[k]
                .inputs
                .iter()
                .zip(&w)
                .map(|(&(n, _), w)| {
                    w * match n {
                        Node::Leaf(i) => values[i],
                        Node::Unit(u) => values[leaves.len() + u],
                    }
                })
                .sum();
            values.push(sigmoid(x + bias));
        }
        for (k, &truth) in crisp.iter().enumerate() {
            let neuron = values[leaves.len() + k];
            assert!(
                (neuron - truth).abs() < 0.1,
                "row {row}: unit {} is {truth}, its neuron {neuron}",
                net.units[k].name
            );
        }
        for g in &net.guards {
            let selected = grounder.ground(g.constraint, &observe).unwrap().is_some();
            assert_eq!(crisp[g.unit] == 1.0, selected, "row {row}: guard of constraint {}", g.constraint);
        }
    }
}

/// Supervision, `always: f(r) == r.y` on the column `f` predicts, is what embedding and
/// structuring train by: it becomes no unit and no refusal.
#[test]
fn supervision_is_left_to_training() {
    for supervision in ["  - always: f(r) == r.y\n", "  - always: r.y == f(r)\n"] {
        let (spec, program) = spec(&format!("{supervision}{GUARDED}"));
        let net = rule_net(&spec, &program, "structuring").unwrap();
        let constraints: Vec<usize> = net.guards.iter().map(|g| g.constraint.position()).collect();
        assert_eq!(constraints, [1, 2, 3, 4]);
    }
}

#[test]
fn what_units_cannot_express_is_refused_with_the_reason() {
    let cases = [
        ("  - always: f(r) == low\n", "constraint 1: embedding needs a guard over observed inputs"),
        ("  - {if: f(r) == low, then: f(r) != high}\n", "constraint 1: its guard reads a learnable"),
        ("  - {if: Low(r), then: f(r) != high}\n", "constraint 1: embedding links the guard to one class"),
        ("  - {if: Low(r), then: f(r) == low}\n  - always: mean(t.a) <= 1\n", "constraint 2: it is column-wise"),
    ];
    for (constraints, expected) in cases {
        let outcome = check_source("t.yaml", format!("{SPEC}{constraints}"));
        assert!(outcome.is_valid(), "{constraints}: {:?}", outcome.diagnostics);
        let (spec, program) = (outcome.spec.unwrap(), outcome.program.unwrap());
        let err = rule_net(&spec, &program, "embedding").unwrap_err().to_string();
        assert!(err.starts_with(expected), "{constraints}: {err}");
    }
}
