//! Grounding checked constraints: the events it builds hold exactly where the formula does, and
//! where crisp evaluation of the same formula under the same classes says it does.

use skilang_lang::check::{ColumnId, ConstraintId};
use skilang_lang::check_source;
use skilang_lang::overrides::Override;
use skilang_logic::{compile, Formulas, Memo, Observed, NODE_LIMIT};

mod common;

const HEAD: &str = "data:
  d:
    source: mnist
    features: [{name: image, type: 'image[28x28]'}]
    targets: [{name: value, values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}]
    instances: [x1, x2, x3]
learnables:
  digit: {input: d.image, output: d.value, architecture: lenet}
knowledge:
  - rule: number
    args: [xs]
    clause: sum(digit(x) * 10 ** (len(xs) - 1 - i) for i, x in enumerate(xs))
constraints:
";

/// Every assignment of the three digits: where the grounded event holds, and where `expected` does.
fn check(formula: &str, gold: [i64; 3], expected: impl Fn([i64; 3]) -> bool) {
    check_text(format!("{HEAD}  - always: {formula}\n"), formula, gold, expected)
}

fn check_text(text: String, formula: &str, gold: [i64; 3], expected: impl Fn([i64; 3]) -> bool) {
    let outcome = check_source("t.yaml", text);
    assert!(outcome.is_valid(), "{formula}: {:?}", outcome.diagnostics);
    let (spec, program) = (outcome.spec.unwrap(), outcome.program.unwrap());
    let g = Formulas::new(&spec, &program);
    let observe = |slot: usize, c: ColumnId| (c.column(&spec).name.name == "value").then(|| Observed::Int(gold[slot]));
    let grounded = g.ground(ConstraintId::at(0), &observe).unwrap().unwrap();
    let slots: Vec<usize> = grounded.vars.iter().map(|v| v.slot).collect();
    for a in 0..10 {
        for b in 0..10 {
            for c in 0..10 {
                let digits = [a, b, c];
                let z: Vec<usize> = slots.iter().map(|&s| digits[s] as usize).collect();
                // Digits the formula does not read are not variables; skip their repeats.
                if slots.len() < 3 && !(0..3).filter(|s| !slots.contains(s)).all(|s| digits[s] == 0) {
                    continue;
                }
                assert_eq!(grounded.event.holds(&z), expected(digits), "{formula} at {digits:?}");
                let class = |_: usize, slot: usize, _: usize| digits[slot] as usize;
                let crisp = g.holds(ConstraintId::at(0), &observe, &class, &mut Memo::default()).unwrap();
                assert_eq!(crisp, Some(expected(digits)), "{formula} evaluated crisply at {digits:?}");
            }
        }
    }
}

/// `shortest_path` over a 3×3 grid of costs, three of them digits: the event (a black box the
/// sampler evaluates) and crisp evaluation both hold exactly where Dijkstra's path is the one given.
#[test]
fn a_shortest_path_holds_where_dijkstra_finds_it() {
    let sampled = format!("optimization: {{injection: em, inference: sample}}\n{HEAD}");
    let costs = |[a, b, c]: [i64; 3]| [a, 9, b, 4, c, 4, 1, 9, 0];
    let via = |cells: &[usize]| (0..9).map(|i| cells.contains(&i)).collect::<Vec<bool>>();
    for (path, cells) in [
        ("[1, 0, 0, 0, 1, 0, 0, 0, 1]", via(&[0, 4, 8])),
        ("[True, False, False, True, False, False, False, True, True]", via(&[0, 3, 7, 8])),
    ] {
        let formula = format!("shortest_path([digit(x1), 9, digit(x2), 4, digit(x3), 4, 1, 9, 0]) == {path}");
        let text = format!("{sampled}  - always: {formula}\n");
        check_text(text, &formula, [0; 3], |d| skilang_lang::path::shortest(&costs(d), 3) == cells);
        let text = format!(
            "{sampled}  - always: not (shortest_path([digit(x1), 9, digit(x2), 4, digit(x3), 4, 1, 9, 0]) != {path})\n"
        );
        check_text(text, &formula, [0; 3], |d| skilang_lang::path::shortest(&costs(d), 3) == cells);
    }
}

#[test]
fn arithmetic_and_comparisons() {
    check("digit(x1) + digit(x2) == x1.value + x2.value", [3, 5, 0], |[a, b, _]| a + b == 8);
    check("digit(x1) * digit(x2) + digit(x3) >= 20", [0; 3], |[a, b, c]| a * b + c >= 20);
    check("digit(x1) - 2 * digit(x2) < digit(x3) - 3", [0; 3], |[a, b, c]| a - 2 * b < c - 3);
    check("digit(x1) // 3 == digit(x2) % 4", [0; 3], |[a, b, _]| a / 3 == b % 4);
    check("max(digit(x1), digit(x2)) == x3.value", [0, 0, 6], |[a, b, _]| a.max(b) == 6);
    check("min([digit(x) for x in [x1, x2, x3]]) > 2", [0; 3], |[a, b, c]| a.min(b).min(c) > 2);
    check("abs(digit(x1) - digit(x2)) <= 1", [0; 3], |[a, b, _]| (a - b).abs() <= 1);
    check("1 < digit(x1) <= digit(x2) < 7", [0; 3], |[a, b, _]| 1 < a && a <= b && b < 7);
    check("number([x1, x2, x3]) == 407", [0; 3], |[a, b, c]| 100 * a + 10 * b + c == 407);
    check("digit(x1) ** 2 == x2.value", [0, 49, 0], |[a, _, _]| a * a == 49);
}

#[test]
fn conditions_and_counting() {
    check("digit(x1) == 3 or not digit(x2) != 4", [0; 3], |[a, b, _]| a == 3 || b == 4);
    check("(digit(x1) == 1) & (digit(x2) > digit(x3)) | (digit(x3) == 9)", [0; 3], |[a, b, c]| {
        (a == 1 && b > c) || c == 9
    });
    check("exactly(2, [digit(x) == 7 for x in [x1, x2, x3]])", [0; 3], |d| d.iter().filter(|&&x| x == 7).count() == 2);
    check("at_least(2, [digit(x) > 4 for x in [x1, x2, x3]])", [0; 3], |d| d.iter().filter(|&&x| x > 4).count() >= 2);
    check("at_most(1, [digit(x) == 0 for x in [x1, x2, x3]])", [0; 3], |d| d.iter().filter(|&&x| x == 0).count() <= 1);
    check("count(digit(x) == x.value for x in [x1, x2, x3]) == 2", [1, 2, 3], |[a, b, c]| {
        [a == 1, b == 2, c == 3].iter().filter(|&&x| x).count() == 2
    });
    check("all_different([digit(x1), digit(x2), digit(x3)])", [0; 3], |[a, b, c]| a != b && b != c && a != c);
    check("all(digit(x) != 5 for x in [x1, x2]) and any(digit(x) == 5 for x in [x2, x3])", [0; 3], |[a, b, c]| {
        a != 5 && b != 5 && c == 5
    });
    check("digit(x1) in [2, 4, 8] and digit(x2) not in [x1.value, 0]", [6, 0, 0], |[a, b, _]| {
        [2, 4, 8].contains(&a) && b != 6 && b != 0
    });
    check("(digit(x1) == 1) == (digit(x2) == 2)", [0; 3], |[a, b, _]| (a == 1) == (b == 2));
    check("digit(x1) == 2 if x1.value > 5 else digit(x1) == 3", [7, 0, 0], |[a, _, _]| a == 2);
    check("digit(x1) == digit(x2) if digit(x3) == 0 else digit(x1) > digit(x2)", [0; 3], |[a, b, c]| {
        if c == 0 {
            a == b
        } else {
            a > b
        }
    });
}

/// A comprehension over `combinations` makes each combination as it binds it: same pairs, in the
/// same order, as the list `combinations` returns, under a tuple or a name, filtered or not.
#[test]
fn comprehensions_over_combinations() {
    let xs = "[x1, x2, x3]";
    check(&format!("count(digit(a) == digit(b) for a, b in combinations({xs}, 2)) == 1"), [0; 3], |[a, b, c]| {
        [a == b, a == c, b == c].iter().filter(|&&x| x).count() == 1
    });
    check(&format!("all(digit(p[0]) < digit(p[1]) for p in combinations({xs}, 2))"), [0; 3], |[a, b, c]| {
        a < b && b < c
    });
    check(
        &format!("count(digit(a) > digit(b) for a, b in combinations({xs}, 2) if a.value > 0) == 2"),
        [1, 0, 2],
        |[a, b, c]| a > b && a > c,
    );
    check(&format!("sum(digit(t[2]) for t in combinations({xs}, 3)) == 4"), [0; 3], |[_, _, c]| c == 4);
    // As a list too, in the same order: the third pair is (x2, x3).
    check(
        &format!("digit(combinations({xs}, 2)[2][0]) == 5 and len(combinations({xs}, 2)) == 3"),
        [0; 3],
        |[_, b, _]| b == 5,
    );
    // No combination of four of three instances.
    check(&format!("any(digit(x1) > 7 for t in combinations({xs}, 4)) or digit(x2) == 1"), [0; 3], |[_, b, _]| b == 1);
}

fn spec(path: &str, sets: &[&str]) -> (skilang_lang::spec::Spec, skilang_lang::check::Program) {
    let text = std::fs::read_to_string(format!("{}/../../examples/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let overrides: Vec<Override> = sets.iter().map(|s| s.parse().unwrap()).collect();
    let o = skilang_lang::check_source_with(path, text, &overrides).unwrap();
    assert!(o.is_valid(), "{:?}", o.diagnostics);
    (o.spec.unwrap(), o.program.unwrap())
}

/// The label path: grounding reads gold digits only through the constraint's observed side, the
/// sum. Examples with the same sum give the same event, whatever their digits.
#[test]
fn events_depend_on_the_sum_only() {
    let (spec, program) = spec("mnist-sum.yaml", &[]);
    let g = Formulas::new(&spec, &program);
    let event = |digits: [i64; 2]| {
        let observe = move |slot: usize, _: ColumnId| Some(Observed::Int(digits[slot]));
        g.ground(ConstraintId::at(0), &observe).unwrap().unwrap()
    };
    assert_eq!(event([3, 5]), event([5, 3]));
    assert_eq!(event([3, 5]), event([8, 0]));
    assert_ne!(event([3, 5]), event([3, 6]));
    let uniform = vec![vec![(0.1f64).ln(); 10]; 2];
    let post = compile(&event([3, 5]).event, NODE_LIMIT).unwrap().posterior(&uniform).unwrap();
    assert!((post.log_prob - (0.09f64).ln()).abs() < 1e-12, "nine of the hundred digit pairs sum to 8");
}

#[test]
fn multi_digit_addition_grounds_to_one_linear_atom_and_compiles_small() {
    for n in [1usize, 2, 15, 100] {
        let (spec, program) = spec("mnist-addition.yaml", &[&format!("data.mnist.instances.a={n}")]);
        let g = Formulas::new(&spec, &program);
        assert_eq!(g.width, 2 * n);
        // a = 99…9, b = 0…01: the sum is 10^n.
        let observe =
            move |slot: usize, _: ColumnId| Some(Observed::Int(if slot < n { 9 } else { (slot == 2 * n - 1) as i64 }));
        let grounded = g.ground(ConstraintId::at(0), &observe).unwrap().unwrap();
        assert_eq!(grounded.vars.len(), 2 * n);
        assert_eq!(grounded.event.atoms.len(), 1);
        let d = compile(&grounded.event, NODE_LIMIT).unwrap();
        assert!(d.size() <= 30 * n, "N = {n}: {} nodes", d.size());
        let uniform = vec![vec![(0.1f64).ln(); 10]; 2 * n];
        if n <= 2 {
            let exact = d.posterior(&uniform).unwrap();
            let (total, _) = common::reference(&grounded.event, &uniform);
            assert!((exact.log_prob - total.ln()).abs() < 1e-9);
        }
        // The number of pairs (a, b) of n-digit strings with a + b = 10^n is 10^n − 1.
        let expected = (10f64.powi(n as i32) - 1.0).ln();
        let log_count = d.log_prob(&uniform) + (2 * n) as f64 * 10f64.ln();
        assert!((log_count - expected).abs() < 1e-6, "N = {n}: log count {log_count}");
    }
}

/// A constraint that reads a value the example does not know (an unlabelled row's target) does
/// not apply to it; one that reads only what is known grounds as usual.
#[test]
fn an_unknown_observed_value_leaves_the_constraint_out() {
    let text = format!("{HEAD}  - always: digit(x1) == x1.value\n  - if: x2.value > 4\n    then: digit(x1) == 0\n  - always: digit(x3) != 3\n");
    let outcome = check_source("t.yaml", text);
    let (spec, program) = (outcome.spec.unwrap(), outcome.program.unwrap());
    let g = Formulas::new(&spec, &program);
    // Every digit's value is 7 except the hidden one's.
    let spec = &spec;
    let hidden = |at: usize| {
        move |slot: usize, c: ColumnId| {
            (c.column(spec).name.name == "value").then_some(if slot == at {
                Observed::Unknown
            } else {
                Observed::Int(7)
            })
        }
    };
    assert!(g.ground(ConstraintId::at(0), &hidden(0)).unwrap().is_none(), "the supervision reads x1's unknown value");
    assert!(g.ground(ConstraintId::at(1), &hidden(0)).unwrap().is_some(), "the guard reads x2's known value");
    assert!(g.ground(ConstraintId::at(2), &hidden(0)).unwrap().is_some(), "nothing observed is read");
    assert!(g.ground(ConstraintId::at(1), &hidden(1)).unwrap().is_none(), "an unknown guard selects nothing");
}

/// A learnable predicting a 2×2 grid, read with the puzzle's givens filled in: the event over its
/// four cells holds exactly where the board is a Latin square keeping the given, as crisp
/// evaluation says (with the clauses `all_different` adds per value, which change no model).
#[test]
fn grid_learnables_ground_one_variable_per_cell() {
    let text = "data:
  g:
    training: {file: g.csv, format: csv}
    features: [{name: given, values: [0, 1, 2], shape: [2, 2]}]
    targets: [{name: solution, values: [1, 2], shape: [2, 2]}]
    instance_name: p
learnables:
  solve: {input: g.given, output: g.solution, architecture: mlp}
knowledge:
  - rule: board
    args: [p]
    clause: \"[[p.given[r][c] if p.given[r][c] != 0 else solve(p)[r][c] for c in range(2)] for r in range(2)]\"
constraints:
  - always: all(all_different(board(p)[r]) for r in range(2)) and all(all_different([board(p)[r][c] for r in range(2)]) for c in range(2))
";
    let outcome = check_source("g.yaml", text.to_string());
    assert!(outcome.is_valid(), "{:?}", outcome.diagnostics);
    let (spec, program) = (outcome.spec.unwrap(), outcome.program.unwrap());
    let g = Formulas::new(&spec, &program);
    let given = [[1, 0], [0, 0]];
    let observe = |_: usize, c: ColumnId| {
        (c.column(&spec).name.name == "given").then(|| {
            Observed::List(
                given.iter().map(|row| Observed::List(row.iter().map(|&v| Observed::Int(v)).collect())).collect(),
            )
        })
    };
    let grounded = g.ground(ConstraintId::at(0), &observe).unwrap().unwrap();
    assert_eq!(grounded.vars.iter().map(|v| v.cell).collect::<Vec<_>>(), [0, 1, 2, 3], "one variable per cell");
    for z in 0..16usize {
        // Class k of a cell is the value k + 1.
        let class = |cell: usize| (z >> cell) & 1;
        let value = |cell: usize| {
            if given[cell / 2][cell % 2] != 0 {
                given[cell / 2][cell % 2] as usize
            } else {
                class(cell) + 1
            }
        };
        let latin = value(0) != value(1) && value(2) != value(3) && value(0) != value(2) && value(1) != value(3);
        let assignment: Vec<usize> = grounded.vars.iter().map(|v| class(v.cell)).collect();
        assert_eq!(grounded.event.holds(&assignment), latin, "assignment {z:04b}");
        let crisp = g.holds(ConstraintId::at(0), &observe, &|_, _, cell| class(cell), &mut Memo::default()).unwrap();
        assert_eq!(crisp, Some(latin), "assignment {z:04b}, crisply");
    }
}

/// A constraint given as DIMACS CNF with its atom map grounds to the event of the formula it
/// stands for: `(d1 ∨ ¬d2) ∧ (d2 ∨ d3)` over `digit(x) == N`, an atom given by a capitalised
/// pattern variable.
#[test]
fn a_dimacs_constraint_grounds_to_its_clauses() {
    let dir = std::env::temp_dir().join(format!("skilang-cnf-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("cnf")).unwrap();
    std::fs::write(dir.join("cnf/r.cnf"), "c two clauses\np cnf 3 2\n1 -2 0\n2 3 0\n").unwrap();
    std::fs::write(dir.join("cnf/r.atom2idx"), r#"{"d(1)": 1, "d(2)": 2, "d(3)": 3}"#).unwrap();
    let spec = format!(
        "{}  - {{cnf: cnf/r.cnf, atoms: cnf/r.atom2idx, as: {{\"d(N)\": \"digit(x1) == N\"}}}}\n",
        HEAD.replace("[x1, x2, x3]", "[x1]")
    );
    std::fs::write(dir.join("s.yaml"), spec).unwrap();
    let outcome = skilang_lang::check_file_with(&dir.join("s.yaml"), &[]).unwrap();
    assert!(outcome.is_valid(), "{:?}", outcome.diagnostics);
    let (spec, program) = (outcome.spec.unwrap(), outcome.program.unwrap());
    let g = Formulas::new(&spec, &program);
    let grounded = g.ground(ConstraintId::at(0), &|_, _| None).unwrap().unwrap();
    for d in 0..10 {
        let expected = (d == 1 || d != 2) && (d == 2 || d == 3);
        assert_eq!(grounded.event.holds(&[d]), expected, "digit {d}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
