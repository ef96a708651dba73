//! The checker's results on real specs: types and latency of sub-expressions, constraint scopes.

use skilang_lang::check::{Program, Scope};
use skilang_lang::formula::{unparse, Expr};
use skilang_lang::{check_source, Outcome};

fn example(name: &str) -> Outcome {
    let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("example exists");
    check_source(name, text)
}

fn valid(outcome: &Outcome) -> &Program {
    let messages: Vec<&str> = outcome.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert!(outcome.is_valid(), "{messages:?}");
    outcome.program.as_ref().expect("a program")
}

/// Every sub-expression of a constraint as (text, type, latent).
fn typed_subexpressions(outcome: &Outcome, constraint: usize) -> Vec<(String, String, bool)> {
    let program = valid(outcome);
    let spec = outcome.spec.as_ref().expect("a spec");
    let mut out = Vec::new();
    fn walk(e: &Expr, program: &Program, out: &mut Vec<(String, String, bool)>) {
        if let Some(t) = program.types.get(&e.id) {
            let names: Vec<String> = program.datasets.iter().map(|d| d.name.clone()).collect();
            out.push((unparse(e), t.ty.show(&program.domains, &names), t.latent));
        }
        e.for_each_child(|c| walk(c, program, out));
    }
    for f in spec.constraints[constraint].kind.formulas() {
        walk(&f.expr, program, &mut out);
    }
    out
}

fn find<'a>(subs: &'a [(String, String, bool)], text: &str) -> &'a (String, String, bool) {
    subs.iter().find(|s| s.0 == text).unwrap_or_else(|| panic!("no sub-expression `{text}` in {subs:?}"))
}

#[test]
fn mnist_sum_latent_and_observed_parts() {
    let o = example("mnist-sum.yaml");
    let subs = typed_subexpressions(&o, 0);
    assert_eq!(find(&subs, "digit(x1)").1, "category mnist.value");
    assert!(find(&subs, "digit(x1)").2);
    assert_eq!(find(&subs, "digit(x1) + digit(x2)").1, "int");
    assert!(find(&subs, "digit(x1) + digit(x2)").2);
    assert!(!find(&subs, "x1.value + x2.value").2, "the weak label is observed");
    assert!(!find(&subs, "x1").2);
    assert_eq!(find(&subs, "digit(x1) + digit(x2) == x1.value + x2.value").1, "bool");
    let c = &valid(&o).constraints[0];
    assert_eq!(c.scope, Scope::InstanceWise);
    assert_eq!(c.latent, ["digit(x1)", "digit(x2)"]);
}

#[test]
fn addition_latent_variables_come_through_rules() {
    let o = example("mnist-addition.yaml");
    let c = &valid(&o).constraints[0];
    assert_eq!(c.latent, ["digit(a[i])", "digit(b[i])"]);
    let subs = typed_subexpressions(&o, 0);
    assert!(find(&subs, "number(a)").2);
    assert!(!find(&subs, "label(a)").2, "the label rule reads only observed values");
    assert_eq!(find(&subs, "number(a) + number(b)").1, "int");
}

#[test]
fn adult_constraints_have_both_scopes() {
    let o = example("adult-fairness.yaml");
    let p = valid(&o);
    assert_eq!(p.constraints[0].scope, Scope::InstanceWise);
    assert_eq!(p.constraints[1].scope, Scope::ColumnWise);
    assert_eq!(p.constraints[1].latent, ["over50k(adult)"]);
    let subs = typed_subexpressions(&o, 1);
    assert_eq!(find(&subs, "adult.race == White").1, "column of adult (bool)");
    assert!(!find(&subs, "adult.race == White").2);
    assert_eq!(find(&subs, "over50k(adult) == \">50K\"").1, "column of adult (bool)");
    assert_eq!(find(&subs, "SP(adult.race == White, over50k(adult) == \">50K\")").1, "real");
    assert!((p.constraints[0].share - 0.5).abs() < 1e-12);
}

#[test]
fn poker_guards_are_observed_and_consequences_latent() {
    let o = example("poker-hand.yaml");
    let p = valid(&o);
    assert_eq!(p.constraints.len(), 11);
    assert_eq!(p.rules.len(), 15);
    assert!(p.rules.iter().all(|r| r.used));
    let total: f64 = p.constraints.iter().map(|c| c.share).sum();
    assert!((total - 1.0).abs() < 1e-12);
    let subs = typed_subexpressions(&o, 10);
    assert!(!find(&subs, "RoyalFlush(h)").2);
    assert_eq!(find(&subs, "RoyalFlush(h)").1, "bool");
    assert!(find(&subs, "classify(h) == royal_flush").2);
    // Merge keys: s2 took its values from the anchored s1.
    let poker = &p.datasets[0];
    let s2 = poker.features.iter().find(|c| c.name == "s2").expect("s2");
    assert_eq!(s2.ty, "category {1, 2, 3, 4}");
}

const BASE: &str = "data:
  d:
    training: {file: d.csv, format: csv}
    features:
      - {name: a, values: [red, green]}
      - {name: b, values: [green, blue]}
    targets:
      - {name: y, values: [red, blue]}
    instance_name: x
learnables:
  f: {input: d.features, output: d.y, architecture: mlp}
";

#[test]
fn a_value_name_shared_by_categories_takes_the_category_it_is_compared_with() {
    let spec = format!("{BASE}constraints:\n  - always: x.a == green and x.b == green and f(x) == red\n");
    assert!(check_source("t.yaml", spec).is_valid());
    let spec = format!("{BASE}constraints:\n  - always: f(x) == green\n");
    let o = check_source("t.yaml", spec);
    assert!(!o.is_valid());
    assert!(o.diagnostics[0].message.contains("not a value of `d.y`"), "{:?}", o.diagnostics[0].message);
}

#[test]
fn rule_chains_are_checked_once_per_argument_type_not_once_per_path() {
    // r0 calls r1 twice, r1 calls r2 twice, ...: 2^40 paths, 40 distinct instantiations.
    let mut spec = format!("{BASE}knowledge:\n");
    for i in 0..40 {
        spec += &format!("  - {{rule: r{i}, args: [v], clause: r{}(v) and r{}(v)}}\n", i + 1, i + 1);
    }
    spec += "  - {rule: r40, args: [v], clause: f(v) == red}\nconstraints:\n  - always: r0(x)\n";
    let o = check_source("t.yaml", spec);
    let p = valid(&o);
    assert_eq!(p.constraints[0].latent, ["f(x)"]);
}

#[test]
fn every_error_has_a_location_inside_the_file() {
    let spec = format!("{BASE}constraints:\n  - always: f(x) == red and g(x)\n  - never: x.c\n");
    let o = check_source("t.yaml", spec.clone());
    assert_eq!(o.diagnostics.len(), 2);
    for d in &o.diagnostics {
        assert!((d.span.end as usize) <= spec.len());
        let text = &spec[d.span.start as usize..d.span.end as usize];
        assert!(text == "g" || text == "c", "{text}");
    }
}

/// The training plan holds every default: a spec with constraints and no injection trains them
/// with fuzzy constraining (product semantics, 1 − truth), EM takes one M-step on the posterior.
#[test]
fn the_training_plan_carries_the_defaults() {
    use skilang_lang::check::{Engine, Reasoning, Training};
    use skilang_lang::spec::{Semantics, TruthLoss};
    let text = std::fs::read_to_string(format!("{}/../../examples/mnist-sum.yaml", env!("CARGO_MANIFEST_DIR")))
        .expect("example exists");
    let plan = |from: &str, to: &str| {
        assert!(text.contains(from), "{from}");
        let outcome = check_source("s.yaml", text.replace(from, to));
        valid(&outcome).training
    };
    let fuzzy = Training::Fuzzy { semantics: Semantics::Product, implication: None, loss: TruthLoss::Linear };
    assert_eq!(plan("  injection: semantic_loss\n  inference: exact\n", ""), fuzzy);
    let em = Training::Reasoned { objective: Reasoning::Em { hard: false, m_steps: 1 }, engine: Engine::Exact };
    assert_eq!(plan("  injection: semantic_loss\n", "  injection: em\n"), em);
    let hard = Training::Reasoned { objective: Reasoning::Em { hard: true, m_steps: 3 }, engine: Engine::Exact };
    assert_eq!(plan("  injection: semantic_loss\n", "  injection: em\n  hard: true\n  m_steps: 3\n"), hard);
    assert_eq!(plan("  injection: semantic_loss\n", "  injection: supervised\n"), Training::Supervised);
}
