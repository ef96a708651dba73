//! What formulas see of a dataset's rows: their observed values, with targets hidden on the rows
//! `labelled` leaves without labels.

use skilang_data::{Table, Values};
use skilang_lang::check::ColumnId;
use skilang_lang::spec::{CategoryValue, ColumnType, Spec, Value};
use skilang_logic::{nest, Observed};

/// Observed values of a dataset's rows, as formulas see them.
pub struct Observations<'a> {
    /// The dataset's place in the `data` section.
    dataset: usize,
    /// Its columns as [`skilang_lang::spec::Dataset::columns`] orders them (`None`: not in the table).
    columns: Vec<Option<(&'a ColumnType, &'a Values)>>,
    /// Columns from this position on are targets.
    targets: usize,
    /// Per row, whether its targets are known, when not all are.
    labelled: Option<Vec<bool>>,
}

impl<'a> Observations<'a> {
    /// The rows of `table` of dataset `dataset` of `spec`, whose targets are known only on the
    /// rows `labelled` lists (when given).
    pub fn new(spec: &'a Spec, dataset: usize, table: &'a Table, labelled: Option<&[usize]>) -> Observations<'a> {
        let d = &spec.datasets[dataset];
        let columns = d.columns().map(|c| Some((&c.ty, table.column(&c.name.name)?))).collect();
        let labelled = labelled.map(|rows| {
            let mut known = vec![false; table.rows];
            rows.iter().for_each(|&r| known[r] = true);
            known
        });
        Observations { dataset, columns, targets: d.features.len(), labelled }
    }

    /// Column `column` of row `row`; `None` where the table has no such column.
    pub fn value(&self, row: usize, column: ColumnId) -> Option<Observed> {
        if column.dataset != self.dataset {
            return None;
        }
        if column.column >= self.targets && self.labelled.as_ref().is_some_and(|known| !known[row]) {
            return Some(Observed::Unknown);
        }
        let (ty, values) = (*self.columns.get(column.column)?)?;
        let category = |declared: &[CategoryValue], code: u32| {
            Some(match &declared.get(code as usize)?.value {
                Value::Int(i) => Observed::Int(*i),
                Value::Str(s) => Observed::Str(s.clone()),
            })
        };
        match (ty, values) {
            (ColumnType::Category(declared), Values::Categories(v)) => category(declared, v[row]),
            (ColumnType::Grid { shape, values: declared }, Values::Grid { cells, codes }) => {
                let shape: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
                let row = &codes[row * cells..(row + 1) * cells];
                // A cell whose code is no declared value makes the whole grid unreadable.
                let list = |items: Vec<Option<Observed>>| items.into_iter().collect::<Option<_>>().map(Observed::List);
                nest(&shape, &mut |i| category(declared, row[i]), &list)
            }
            (ColumnType::Int, Values::Numbers(v)) => Some(Observed::Int(v[row] as i64)),
            (ColumnType::Bool, Values::Numbers(v)) => Some(Observed::Bool(v[row] != 0.0)),
            (_, Values::Numbers(v)) => Some(Observed::Real(v[row] as f64)),
            _ => None,
        }
    }
}
