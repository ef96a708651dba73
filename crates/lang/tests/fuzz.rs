//! Random and mutated specs fed to the loader and checker: whatever the input, checking returns
//! diagnostics with spans inside the file, and never panics.

use proptest::prelude::*;
use skilang_lang::check_source;

fn examples() -> Vec<String> {
    let dir = format!("{}/../../examples", env!("CARGO_MANIFEST_DIR"));
    let mut texts: Vec<String> = std::fs::read_dir(dir)
        .expect("examples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| std::fs::read_to_string(p).expect("readable"))
        .collect();
    texts.sort();
    texts
}

/// Characters that matter to YAML or to formulas.
const INTERESTING: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    ":",
    ": ",
    ",",
    "-",
    "- ",
    "&a ",
    "*a",
    "<<: ",
    "'",
    "\"",
    "\n",
    "\t",
    "#",
    "|",
    ">",
    "!",
    "=",
    "==",
    "<",
    ".",
    " for ",
    " in ",
    " if ",
    " else ",
    " and ",
    " not ",
    "**",
    "//",
    "%",
    "~",
    "x1",
    "digit",
    "0",
    "-1",
    "1e309",
    "99999999999999999999999",
    "é",
    "\u{0}",
    "    ",
];

#[derive(Clone, Debug)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, what: usize },
    DuplicateLine { line: usize },
    SwapLines { a: usize, b: usize },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..20).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), 0..INTERESTING.len()).prop_map(|(at, what)| Mutation::Insert { at, what }),
        any::<usize>().prop_map(|line| Mutation::DuplicateLine { line }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

fn boundary(text: &str, at: usize) -> usize {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(text: &mut String, m: &Mutation) {
    match *m {
        Mutation::Delete { at, len } => {
            let a = boundary(text, at);
            let b = boundary(text, a + len.min(text.len() - a));
            text.replace_range(a..b.max(a), "");
        }
        Mutation::Insert { at, what } => {
            let a = boundary(text, at);
            text.insert_str(a, INTERESTING[what]);
        }
        Mutation::DuplicateLine { line } => {
            let mut lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let l = line % lines.len();
                lines.insert(l, lines[l]);
            }
            *text = lines.join("\n");
        }
        Mutation::SwapLines { a, b } => {
            let mut lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let n = lines.len();
                lines.swap(a % n, b % n);
            }
            *text = lines.join("\n");
        }
        Mutation::Truncate { at } => {
            let a = boundary(text, at);
            text.truncate(a);
        }
    }
}

fn check_never_panics(text: String) {
    let len = text.len();
    let outcome = check_source("fuzz.yaml", text);
    for d in &outcome.diagnostics {
        assert!(d.span.start <= d.span.end && d.span.end as usize <= len, "span {:?} outside 0..{len}", d.span);
        // Rendering must work for every diagnostic too.
        let _ = d.render(&outcome.file);
    }
    if outcome.is_valid() {
        assert!(outcome.program.is_some());
    }
}

/// Cases per property: 1,500 in the test suite, `SKILANG_FUZZ_CASES=100000` for a long run.
fn cases() -> u32 {
    std::env::var("SKILANG_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1500)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn mutated_examples_never_panic(which in any::<usize>(), ms in proptest::collection::vec(mutation(), 1..6)) {
        let texts = examples();
        let mut text = texts[which % texts.len()].clone();
        for m in &ms {
            apply(&mut text, m);
        }
        check_never_panics(text);
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,400}") {
        check_never_panics(text);
    }

    #[test]
    fn random_formulas_never_panic(formula in "[a-z0-9_ .,()\\[\\]:+*/%<>=!&|~'\"-]{0,120}") {
        let spec = format!(
            "data:\n  d:\n    source: mnist\n    features:\n      - name: image\n        type: image[28x28]\n    targets:\n      - {{name: value, values: [0, 1]}}\n    instances: [x1, x2]\nlearnables:\n  digit: {{input: d.image, output: d.value, architecture: lenet}}\nconstraints:\n  - always: {:?}\n",
            formula
        );
        check_never_panics(spec);
    }
}
