//! Datasets in memory: one column per declared feature and target, in declaration order.

/// Rows `index` of row-major data with `width` values per row, in that order.
pub fn gather<T: Copy>(rows: &[T], width: usize, index: &[usize]) -> Vec<T> {
    let mut out = Vec::with_capacity(index.len() * width);
    for &i in index {
        out.extend_from_slice(&rows[i * width..(i + 1) * width]);
    }
    out
}

/// The values of one column for every row of a split.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// `int`, `real` and `bool` columns.
    Numbers(Vec<f32>),
    /// Index into the column's declared values.
    Categories(Vec<u32>),
    /// Row after row of `channels × height × width` bytes.
    Images { shape: [usize; 3], pixels: Vec<u8> },
    /// Row after row of `cells` indices into the column's declared values (a grid, row-major).
    Grid { cells: usize, codes: Vec<u32> },
}

impl Values {
    pub fn len(&self) -> usize {
        match self {
            Values::Numbers(v) => v.len(),
            Values::Categories(v) => v.len(),
            Values::Images { shape, pixels } => pixels.len() / shape.iter().product::<usize>().max(1),
            Values::Grid { cells, codes } => codes.len() / cells.max(&1),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows at `index`, in that order.
    pub fn select(&self, index: &[usize]) -> Values {
        match self {
            Values::Numbers(v) => Values::Numbers(index.iter().map(|&i| v[i]).collect()),
            Values::Categories(v) => Values::Categories(index.iter().map(|&i| v[i]).collect()),
            Values::Images { shape, pixels } => {
                Values::Images { shape: *shape, pixels: gather(pixels, shape.iter().product(), index) }
            }
            Values::Grid { cells, codes } => Values::Grid { cells: *cells, codes: gather(codes, *cells, index) },
        }
    }
}

/// One split of a dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub rows: usize,
    /// Named columns: the features, then the targets, as the spec declares them.
    pub columns: Vec<(String, Values)>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Values> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub fn select(&self, index: &[usize]) -> Table {
        Table { rows: index.len(), columns: self.columns.iter().map(|(n, v)| (n.clone(), v.select(index))).collect() }
    }

    /// These rows, then `more`'s, which must have the same columns.
    pub fn append(mut self, more: Table) -> std::result::Result<Table, String> {
        if self.columns.len() != more.columns.len() {
            return Err(format!(
                "cannot append rows with {} columns to rows with {}",
                more.columns.len(),
                self.columns.len()
            ));
        }
        for ((name, values), (other, extra)) in self.columns.iter_mut().zip(more.columns) {
            match (values, extra) {
                (_, _) if *name != other => return Err(format!("cannot append column `{other}` to column `{name}`")),
                (Values::Numbers(v), Values::Numbers(e)) => v.extend(e),
                (Values::Categories(v), Values::Categories(e)) => v.extend(e),
                (Values::Images { shape, pixels }, Values::Images { shape: s, pixels: p }) if *shape == s => {
                    pixels.extend(p)
                }
                (Values::Grid { cells, codes }, Values::Grid { cells: c, codes: e }) if *cells == c => codes.extend(e),
                _ => return Err(format!("column `{name}` holds other values in the rows appended")),
            }
        }
        self.rows += more.rows;
        Ok(self)
    }
}

/// A dataset's training and test splits.
#[derive(Clone, Debug, PartialEq)]
pub struct Data {
    pub name: String,
    pub train: Table,
    pub test: Table,
    /// The training rows whose targets are known, when not all are (`labelled`).
    pub labelled: Option<Vec<usize>>,
    /// What a user should know about how the data was made (e.g. a generated test split).
    pub notes: Vec<String>,
    /// The examples, when the data fixes them (a puzzle's cells): tuples of rows per split.
    pub tuples: Option<Tuples>,
}

/// The examples of a dataset whose rows are grouped by the data itself, each a tuple of rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Tuples {
    pub train: Vec<Vec<usize>>,
    /// Validation examples of the data's own (rows of the training table), used when the run
    /// validates instead of cutting a share of the training examples.
    pub valid: Option<Vec<Vec<usize>>>,
    pub test: Vec<Vec<usize>>,
}
