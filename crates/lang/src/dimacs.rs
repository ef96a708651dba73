//! DIMACS CNF, the format SAT solvers and CL-STE's published encodings (`sudoku.cnf`,
//! `mnistAdd.cnf`) use: `c` comment lines, one `p cnf VARIABLES CLAUSES` line, then each clause
//! as signed 1-based variable numbers ended by `0`. Read here, where a constraint names such a
//! file (`cnf:`), and written by `skilang_logic` for the encodings it makes.

/// A CNF over variables `1..=variables`; a literal is `±v`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dimacs {
    pub variables: usize,
    pub clauses: Vec<Vec<i64>>,
}

/// Why a DIMACS text was not read, and on which line (from 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DimacsError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for DimacsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for DimacsError {}

impl Dimacs {
    pub fn parse(text: &str) -> Result<Dimacs, DimacsError> {
        let fail = |line: usize, message: String| Err(DimacsError { line, message });
        // The header's counts, the clauses ended so far, the clause being read.
        let mut header: Option<(usize, usize)> = None;
        let (mut clauses, mut open): (Vec<Vec<i64>>, Vec<i64>) = (Vec::new(), Vec::new());
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('c') || line.starts_with('%') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('p') {
                let parts: Vec<&str> = rest.split_whitespace().collect();
                let counts = match parts.as_slice() {
                    ["cnf", v, c] => v.parse().ok().zip(c.parse().ok()),
                    _ => None,
                };
                match (counts, header) {
                    (_, Some(_)) => return fail(n, "a second `p cnf` line".into()),
                    (None, _) => return fail(n, format!("expected `p cnf VARIABLES CLAUSES`, found `{line}`")),
                    (Some(h), None) => header = Some(h),
                }
                continue;
            }
            let Some((variables, _)) = header else {
                return fail(n, "a clause before the `p cnf` line".into());
            };
            for word in line.split_whitespace() {
                let Ok(l) = word.parse::<i64>() else { return fail(n, format!("`{word}` is not a literal")) };
                if l == 0 {
                    clauses.push(std::mem::take(&mut open));
                } else if l.unsigned_abs() as usize > variables {
                    return fail(n, format!("variable {} is beyond the {variables} the header declares", l.abs()));
                } else {
                    open.push(l);
                }
            }
        }
        let lines = text.lines().count();
        let Some((variables, count)) = header else { return fail(lines.max(1), "no `p cnf` line".into()) };
        if !open.is_empty() {
            return fail(lines, "the last clause is not ended by 0".into());
        }
        if clauses.len() != count {
            return fail(lines, format!("the header declares {count} clauses, the file has {}", clauses.len()));
        }
        Ok(Dimacs { variables, clauses })
    }

    pub fn write(&self) -> String {
        let mut out = format!("p cnf {} {}\n", self.variables, self.clauses.len());
        for c in &self.clauses {
            for l in c {
                out.push_str(&l.to_string());
                out.push(' ');
            }
            out.push_str("0\n");
        }
        out
    }
}
