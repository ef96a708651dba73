//! What formulas see of a dataset's rows: their observed values, with targets hidden on the rows
//! `labelled` leaves without labels.

use skilang_data::{Table, Values};
use skilang_lang::spec::{ColumnType, Dataset, Value};
use skilang_logic::Observed;

/// Observed values of a dataset's rows, as formulas see them.
pub struct Observations<'a> {
    columns: Vec<(&'a str, &'a ColumnType, &'a Values)>,
    targets: Vec<&'a str>,
    /// Per row, whether its targets are known, when not all are.
    labelled: Option<Vec<bool>>,
}

impl<'a> Observations<'a> {
    /// The rows of `table`, whose targets are known only on the rows `labelled` lists (when given).
    pub fn new(dataset: &'a Dataset, table: &'a Table, labelled: Option<&[usize]>) -> Observations<'a> {
        let columns = dataset
            .features
            .iter()
            .chain(&dataset.targets)
            .filter_map(|c| Some((c.name.name.as_str(), &c.ty, table.column(&c.name.name)?)))
            .collect();
        let labelled = labelled.map(|rows| {
            let mut known = vec![false; table.rows];
            rows.iter().for_each(|&r| known[r] = true);
            known
        });
        let targets = dataset.targets.iter().map(|c| c.name.name.as_str()).collect();
        Observations { columns, targets, labelled }
    }

    pub fn value(&self, row: usize, column: &str) -> Option<Observed> {
        if self.labelled.as_ref().is_some_and(|known| !known[row]) && self.targets.contains(&column) {
            return Some(Observed::Unknown);
        }
        let (_, ty, values) = self.columns.iter().find(|(n, _, _)| *n == column)?;
        match (ty, values) {
            (ColumnType::Category(declared), Values::Categories(v)) => {
                Some(match &declared.get(v[row] as usize)?.value {
                    Value::Int(i) => Observed::Int(*i),
                    Value::Str(s) => Observed::Str(s.clone()),
                })
            }
            (ColumnType::Int, Values::Numbers(v)) => Some(Observed::Int(v[row] as i64)),
            (ColumnType::Bool, Values::Numbers(v)) => Some(Observed::Bool(v[row] != 0.0)),
            (_, Values::Numbers(v)) => Some(Observed::Real(v[row] as f64)),
            _ => None,
        }
    }
}
