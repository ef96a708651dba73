//! Delimited text in the UCI conventions: no header, fields separated by `,` (with or without a
//! space), `?` for a missing value, lines starting with `|` are comments, and a label may end with
//! a stray `.` (the Adult test file). Each field is read by its column's declared type. A row with
//! a missing value in a column that does not declare `?` as one of its values is left out, and
//! counted.

use crate::error::{DataError, Result};
use crate::table::{Table, Values};
use skilang_lang::spec::{CategoryValue, Column, ColumnType, Value};
use std::path::Path;

/// Rows left out for a missing value (`?`), and the columns they were missing in.
#[derive(Debug, Default, PartialEq)]
pub struct Skipped {
    pub rows: usize,
    pub columns: Vec<String>,
}

impl Skipped {
    /// What a user is told about them, if any were left out.
    pub fn note(&self, path: &Path) -> Option<String> {
        (self.rows > 0).then(|| {
            format!(
                "{}: {} rows with a missing value (`?`) in {} were left out (list `?` among a column's `values` to keep them)",
                path.display(),
                self.rows,
                self.columns.join(", ")
            )
        })
    }
}

/// Reads `text` (from `path`) into columns `features ++ targets`.
pub fn parse(text: &str, path: &Path, columns: &[&Column], separator: &str) -> Result<(Table, Skipped)> {
    let mut values: Vec<Values> = columns
        .iter()
        .map(|c| match c.ty {
            ColumnType::Category(_) => Ok(Values::Categories(Vec::new())),
            ColumnType::Grid { .. } => Ok(Values::Grid { cells: c.ty.cells(), codes: Vec::new() }),
            ColumnType::Int | ColumnType::Real | ColumnType::Bool => Ok(Values::Numbers(Vec::new())),
            _ => Err(DataError::Corrupt {
                path: path.to_path_buf(),
                reason: format!("column `{}` is an image or vector, which a CSV file cannot hold", c.name.name),
            }),
        })
        .collect::<Result<_>>()?;
    let mut rows = 0;
    let mut skipped = Skipped::default();
    let mut first = true;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('|') {
            continue;
        }
        let row_error = |reason: String| DataError::Row { path: path.to_path_buf(), line: n + 1, reason };
        let fields: Vec<&str> = line.split(separator).map(str::trim).collect();
        if std::mem::take(&mut first) && is_header(&fields, columns) {
            continue;
        }
        if fields.len() != columns.len() {
            return Err(row_error(format!(
                "{} values, but the spec declares {} columns ({})",
                fields.len(),
                columns.len(),
                columns.iter().map(|c| c.name.name.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        let missing = |(field, column): (&&str, &&Column)| {
            *field == "?" && !matches!(&column.ty, ColumnType::Category(d) if category(field, d).is_some())
        };
        if fields.iter().zip(columns).any(missing) {
            skipped.rows += 1;
            for (_, c) in fields.iter().zip(columns).filter(|&p| missing(p)) {
                if !skipped.columns.contains(&c.name.name) {
                    skipped.columns.push(c.name.name.clone());
                }
            }
            continue;
        }
        for ((field, column), out) in fields.iter().zip(columns).zip(values.iter_mut()) {
            match (out, &column.ty) {
                (Values::Categories(v), ColumnType::Category(declared)) => {
                    v.push(category(field, declared).ok_or_else(|| {
                        let shown: Vec<String> = declared.iter().take(8).map(|d| d.value.to_string()).collect();
                        row_error(format!(
                            "`{field}` is not a value of `{}` (values: {}{})",
                            column.name.name,
                            shown.join(", "),
                            if declared.len() > 8 { ", …" } else { "" }
                        ))
                    })? as u32)
                }
                (Values::Grid { cells, codes }, ColumnType::Grid { values, .. }) => {
                    let cell_values = grid_cells(field, *cells).ok_or_else(|| {
                        row_error(format!(
                            "`{}` holds {cells} cells: write them as {cells} characters, or separated by spaces",
                            column.name.name
                        ))
                    })?;
                    for cell in cell_values {
                        let code = category(cell, values).ok_or_else(|| {
                            row_error(format!("`{cell}` is not a value of a cell of `{}`", column.name.name))
                        })?;
                        codes.push(code as u32);
                    }
                }
                (Values::Numbers(v), ty) => {
                    v.push(number(field, ty).ok_or_else(|| {
                        row_error(format!("`{field}` in column `{}` is not a number", column.name.name))
                    })?)
                }
                _ => unreachable!("columns were matched to their value kinds above"),
            }
        }
        rows += 1;
    }
    if rows == 0 {
        let reason = match skipped.rows {
            0 => "no data rows".to_string(),
            n => format!("no data rows: all {n} have a missing value (`?`)"),
        };
        return Err(DataError::Corrupt { path: path.to_path_buf(), reason });
    }
    let columns = columns.iter().map(|c| c.name.name.clone()).zip(values).collect();
    Ok((Table { rows, columns }, skipped))
}

/// A first line none of whose fields is a value of its column names the columns (the published
/// Sudoku files start with `quizzes,solutions`).
fn is_header(fields: &[&str], columns: &[&Column]) -> bool {
    fields.len() == columns.len()
        && fields.iter().zip(columns).all(|(field, column)| match &column.ty {
            ColumnType::Category(declared) => category(field, declared).is_none(),
            ColumnType::Grid { values, .. } => grid_cells(field, column.ty.cells())
                .is_none_or(|cells| cells.iter().any(|c| category(c, values).is_none())),
            ty => number(field, ty).is_none(),
        })
}

/// The cells of a grid field: `cells` values separated by spaces, or `cells` characters (a
/// Sudoku board as `004300209005009001…`).
fn grid_cells(field: &str, cells: usize) -> Option<Vec<&str>> {
    let spaced: Vec<&str> = field.split_whitespace().collect();
    if spaced.len() == cells {
        return Some(spaced);
    }
    (field.len() == cells && field.is_ascii()).then(|| (0..cells).map(|i| &field[i..i + 1]).collect())
}

fn number(field: &str, ty: &ColumnType) -> Option<f32> {
    match ty {
        ColumnType::Bool => match field {
            "true" | "True" | "1" => Some(1.0),
            "false" | "False" | "0" => Some(0.0),
            _ => None,
        },
        _ => field.parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| v as f32),
    }
}

/// The index of the declared value a field denotes: by code when the spec maps names to codes,
/// else by the value itself; a trailing `.` is forgiven.
pub(crate) fn category(field: &str, declared: &[CategoryValue]) -> Option<usize> {
    let find = |f: &str| {
        declared.iter().position(|d| match (&d.value, d.code) {
            (_, Some(code)) => f.parse::<i64>().ok() == Some(code),
            (Value::Int(i), None) => f.parse::<i64>().ok() == Some(*i),
            (Value::Str(s), None) => s == f,
        })
    };
    find(field).or_else(|| field.strip_suffix('.').and_then(find))
}

#[cfg(test)]
mod tests {
    use super::*;
    use skilang_lang::formula::Ident;
    use skilang_lang::source::Span;

    fn col(name: &str, ty: ColumnType) -> Column {
        Column { name: Ident { name: name.into(), span: Span::default() }, ty, span: Span::default() }
    }

    fn values(vs: &[&str]) -> ColumnType {
        ColumnType::Category(
            vs.iter()
                .map(|v| CategoryValue { value: Value::Str(v.to_string()), code: None, span: Span::default() })
                .collect(),
        )
    }

    #[test]
    fn uci_conventions() {
        let cols =
            [col("age", ColumnType::Int), col("work", values(&["?", "Private"])), col("y", values(&["<=50K", ">50K"]))];
        let refs: Vec<&Column> = cols.iter().collect();
        let text = "|1x3 Cross validator\n25, Private, <=50K.\n\n38, ?, >50K.\n";
        let (t, skipped) = parse(text, Path::new("adult.test"), &refs, ",").unwrap();
        assert_eq!(skipped, Skipped::default(), "`?` is a declared value of `work`");
        assert_eq!(t.rows, 2);
        assert_eq!(t.column("age"), Some(&Values::Numbers(vec![25.0, 38.0])));
        assert_eq!(t.column("work"), Some(&Values::Categories(vec![1, 0])));
        assert_eq!(t.column("y"), Some(&Values::Categories(vec![0, 1])));
    }

    #[test]
    fn grids_read_as_characters_or_spaced_values_after_a_header() {
        let digits = |vs: &[i64]| {
            vs.iter().map(|&v| CategoryValue { value: Value::Int(v), code: None, span: Span::default() }).collect()
        };
        let cols = [
            col("quiz", ColumnType::Grid { shape: vec![2, 2], values: digits(&[0, 1, 2]) }),
            col("solution", ColumnType::Grid { shape: vec![2, 2], values: digits(&[1, 2]) }),
        ];
        let refs: Vec<&Column> = cols.iter().collect();
        let (t, _) = parse(
            "quizzes,solutions
1002,1221
0 2 2 0, 1 2 2 1
",
            Path::new("s.csv"),
            &refs,
            ",",
        )
        .unwrap();
        assert_eq!(t.rows, 2);
        assert_eq!(t.column("quiz"), Some(&Values::Grid { cells: 4, codes: vec![1, 0, 0, 2, 0, 2, 2, 0] }));
        assert_eq!(t.column("solution"), Some(&Values::Grid { cells: 4, codes: vec![0, 1, 1, 0, 0, 1, 1, 0] }));
        let refused = |text: &str| parse(text, Path::new("s.csv"), &refs, ",").unwrap_err().to_string();
        let e = refused("100,1221\n");
        assert!(e.starts_with("s.csv:1: `quiz` holds 4 cells"), "{e}");
        let e = refused("1003,1221\n");
        assert!(e.contains("`3` is not a value of a cell of `quiz`"), "{e}");
    }

    #[test]
    fn wrong_rows_are_located() {
        let cols = [col("age", ColumnType::Int), col("y", values(&["a", "b"]))];
        let refs: Vec<&Column> = cols.iter().collect();
        let e = parse("1, a\n2, b, 3\n", Path::new("f.csv"), &refs, ",").unwrap_err().to_string();
        assert!(e.starts_with("f.csv:2: 3 values, but the spec declares 2 columns (age, y)"), "{e}");
        let e = parse("1, c\n", Path::new("f.csv"), &refs, ",").unwrap_err().to_string();
        assert!(e.contains("`c` is not a value of `y`"), "{e}");
    }

    #[test]
    fn rows_with_undeclared_missing_values_are_left_out_and_counted() {
        let cols = [
            col("age", ColumnType::Int),
            col("work", values(&["Private", "State-gov"])),
            col("y", values(&["a", "b"])),
        ];
        let refs: Vec<&Column> = cols.iter().collect();
        let (t, skipped) = parse(
            "1, Private, a\n?, State-gov, b\n3, ?, a\n4, ?, ?\n5, State-gov, b\n",
            Path::new("f.csv"),
            &refs,
            ",",
        )
        .unwrap();
        assert_eq!(t.column("age"), Some(&Values::Numbers(vec![1.0, 5.0])));
        assert_eq!(skipped, Skipped { rows: 3, columns: vec!["age".into(), "work".into(), "y".into()] });
        let note = skipped.note(Path::new("f.csv")).unwrap();
        assert!(note.starts_with("f.csv: 3 rows with a missing value (`?`) in age, work, y were left out"), "{note}");
        let e = parse("?, Private, a\n", Path::new("f.csv"), &refs, ",").unwrap_err().to_string();
        assert!(e.contains("all 1 have a missing value"), "{e}");
    }

    #[test]
    fn codes_map_to_value_names() {
        let hand = ColumnType::Category(vec![
            CategoryValue { value: Value::Str("nothing".into()), code: Some(0), span: Span::default() },
            CategoryValue { value: Value::Str("pair".into()), code: Some(1), span: Span::default() },
        ]);
        let cols = [col("hand", hand)];
        let refs: Vec<&Column> = cols.iter().collect();
        let (t, _) = parse("1\n0\n", Path::new("p"), &refs, ",").unwrap();
        assert_eq!(t.column("hand"), Some(&Values::Categories(vec![1, 0])));
    }
}
