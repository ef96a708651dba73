use super::*;

fn p(text: &str) -> Result<Expr, crate::diag::Diagnostic> {
    let offsets: Vec<u32> = (0..=text.len() as u32).collect();
    let mut id = 0;
    parse(text, &offsets, &mut id)
}

fn show(text: &str) -> String {
    unparse(&p(text).unwrap_or_else(|e| panic!("{text}: {}", e.message)))
}

#[test]
fn python_precedence() {
    assert_eq!(show("a + b * c ** -d ** e"), "a + b * c ** -d ** e");
    assert_eq!(show("(a + b) * c"), "(a + b) * c");
    assert_eq!(show("-2 ** 2"), "-2 ** 2");
    assert_eq!(show("(-2) ** 2"), "(-2) ** 2");
    assert_eq!(show("not a == b and c or d"), "not a == b and c or d");
    assert_eq!(show("(a or b) and c"), "(a or b) and c");
    assert_eq!(show("a & b == c | d"), "a & b == c | d");
    assert_eq!(show("(a > 1) & (b < 2)"), "(a > 1) & (b < 2)");
    assert_eq!(show("a - (b - c)"), "a - (b - c)");
    assert_eq!(show("a // b % c"), "a // b % c");
}

#[test]
fn chained_comparisons_stay_one_node() {
    let e = p("h.s1 == h.s2 == h.s3 < 4").unwrap();
    let ExprKind::Compare { rest, .. } = &e.kind else { panic!() };
    assert_eq!(rest.len(), 3);
    assert_eq!(show("x not in xs"), "x not in xs");
}

#[test]
fn comprehensions_calls_and_subscripts() {
    assert_eq!(
        show("sum(digit(x) * 10 ** (len(xs) - 1 - i) for i, x in enumerate(xs))"),
        "sum((digit(x) * 10 ** (len(xs) - 1 - i) for (i, x) in enumerate(xs)))"
    );
    assert_eq!(show("[c for c in r if c != 1 if c > 0]"), "[c for c in r if c != 1 if c > 0]");
    assert_eq!(
        show("count(a == b for a, b in combinations(r, 2))"),
        "count((a == b for (a, b) in combinations(r, 2)))"
    );
    assert_eq!(show("exactly(1, x > 0 for x in xs)"), "exactly(1, (x > 0 for x in xs))");
    assert_eq!(show("xs[1:][::2][a:b:c]"), "xs[1:][::2][a:b:c]");
    assert_eq!(show("t[s == 'White']"), "t[s == \"White\"]");
    assert_eq!(show("a if c else b if d else e"), "a if c else b if d else e");
    assert_eq!(show("(1,)"), "(1,)");
    assert_eq!(show("[]"), "[]");
}

#[test]
fn syntax_errors_are_located() {
    let e = p("digit(x1 + 1").unwrap_err();
    assert_eq!(e.span.start, 5, "{}", e.message);
    assert!(e.message.contains("never closed"));
    let e = p("a +").unwrap_err();
    assert_eq!(e.span.start, 3);
    let e = p("a b").unwrap_err();
    assert_eq!(e.span.start, 2);
    assert!(p("a if b").unwrap_err().message.contains("else"));
    assert!(p("lambda x: x").unwrap_err().message.contains("lambda"));
    assert!(p("[x for 1 in y]").is_err());
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
    assert!(p(&deep).unwrap_err().message.contains("nested too deeply"));
    let minus = format!("{}1", "-".repeat(5000));
    assert!(p(&minus).is_err());
    let nots = format!("{}a", "not ".repeat(5000));
    assert!(p(&nots).is_err());
    let pows = format!("2{}", " ** 2".repeat(5000));
    assert!(p(&pows).is_err());
    let sum = format!("a{}", " + a".repeat(5000));
    assert!(p(&sum).is_err());
    let cmp = format!("a{}", " < a".repeat(5000));
    assert!(p(&cmp).is_err());
    assert!(p(&format!("a{}", " + a".repeat(150))).is_ok());
}
