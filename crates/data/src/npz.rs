//! NumPy archives (`format: npz`, what `numpy.savez` and `savez_compressed` write): one array per
//! declared column, named by the column, with one row per entry of its first axis. A category or
//! grid column holds integers (the declared values, or their codes), a number column numbers, an
//! image column bytes shaped `(rows, height, width)` or `(rows, channels, height, width)`.
//! Published sets kept as pickles (NeurASP's `easy_130k_given.p`) are one `numpy.savez` away.

use crate::error::{DataError, Result};
use crate::table::{Table, Values};
use skilang_lang::spec::{Column, ColumnType};
use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

/// A reason a user reads, before the path and array it is about are added.
type Why<T> = std::result::Result<T, String>;

/// An array as `.npy` stores it: its shape, and its elements in C order.
#[derive(Debug, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub elements: Elements,
}

#[derive(Debug, PartialEq)]
pub enum Elements {
    Ints(Vec<i64>),
    Floats(Vec<f64>),
}

/// Reads the declared columns from the archive `bytes` (read from `path`).
pub fn parse(bytes: &[u8], path: &Path, columns: &[&Column]) -> Result<Table> {
    let corrupt = |reason: String| DataError::Corrupt { path: path.to_path_buf(), reason };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| corrupt(format!("not a NumPy .npz archive ({e})")))?;
    let names: Vec<String> = archive.file_names().map(|n| n.trim_end_matches(".npy").to_string()).collect();
    let mut rows = None;
    let mut out = Vec::new();
    for column in columns {
        let name = &column.name.name;
        let mut member = archive.by_name(&format!("{name}.npy")).map_err(|_| {
            corrupt(format!(
                "it has no array `{name}` (its arrays: {}); save one per declared column",
                names.join(", ")
            ))
        })?;
        let mut npy = Vec::new();
        member.read_to_end(&mut npy).map_err(|e| corrupt(format!("array `{name}` cannot be read ({e})")))?;
        let array = parse_npy(&npy).map_err(|reason| corrupt(format!("array `{name}`: {reason}")))?;
        let n = array.shape.first().copied().unwrap_or(0);
        if *rows.get_or_insert(n) != n {
            return Err(corrupt(format!("array `{name}` has {n} rows, the arrays before it {}", rows.unwrap_or(0))));
        }
        let values = values(&array, n, column).map_err(|reason| corrupt(format!("array `{name}`: {reason}")))?;
        out.push((name.clone(), values));
    }
    match rows {
        Some(rows) if rows > 0 => Ok(Table { rows, columns: out }),
        _ => Err(corrupt("no data rows".into())),
    }
}

/// The array's rows as `column`'s values.
fn values(array: &Array, rows: usize, column: &Column) -> Why<Values> {
    let per_row: usize = array.shape.iter().skip(1).product();
    let shape = format!("{:?}", array.shape);
    // Whole floating-point numbers are integers too (a float tensor of digits saved as it is).
    // Integer arrays are borrowed, not copied (an image set is hundreds of megabytes).
    let ints = || match &array.elements {
        Elements::Ints(v) => Ok(Cow::Borrowed(v.as_slice())),
        Elements::Floats(v) => v
            .iter()
            .map(|&x| (x.fract() == 0.0 && x.abs() < 2f64.powi(53)).then_some(x as i64))
            .collect::<Option<Vec<i64>>>()
            .map(Cow::Owned)
            .ok_or_else(|| format!("holds fractional numbers; `{}` needs integers", column.name.name)),
    };
    let code = |v: i64, declared| {
        crate::csv::category(&v.to_string(), declared).ok_or_else(|| format!("{v} is not a declared value"))
    };
    match &column.ty {
        ColumnType::Category(declared) if per_row == 1 => {
            Ok(Values::Categories(ints()?.iter().map(|&v| code(v, declared).map(|c| c as u32)).collect::<Why<_>>()?))
        }
        ColumnType::Grid { values, .. } if per_row == column.ty.cells() => {
            let codes = ints()?.iter().map(|&v| code(v, values).map(|c| c as u32)).collect::<Why<_>>()?;
            Ok(Values::Grid { cells: per_row, codes })
        }
        ColumnType::Int | ColumnType::Real | ColumnType::Bool if per_row == 1 => {
            Ok(Values::Numbers(match &array.elements {
                Elements::Ints(v) => v.iter().map(|&x| x as f32).collect(),
                Elements::Floats(v) => v.iter().map(|&x| x as f32).collect(),
            }))
        }
        ColumnType::Image { channels, height, width } => {
            let want = [*channels as usize, *height as usize, *width as usize];
            let dims = array.shape.get(1..).unwrap_or_default();
            if dims != want && !(want[0] == 1 && dims == &want[1..]) {
                return Err(format!(
                    "has shape {shape}; `{}` needs ({rows}, {}, {}, {})",
                    column.name.name, want[0], want[1], want[2]
                ));
            }
            let pixels = ints()?
                .iter()
                .map(|&v| u8::try_from(v).map_err(|_| format!("{v} is not a pixel byte (0–255)")))
                .collect::<Why<_>>()?;
            Ok(Values::Images { shape: want, pixels })
        }
        ColumnType::Vector(_) => Err("vector columns are not read from .npz yet; use an image column".into()),
        _ => Err(format!(
            "has shape {shape}, which does not fit the column's type ({} values per row needed)",
            column.ty.cells().max(1)
        )),
    }
}

/// One `.npy` file: magic, version, a header dictionary, then the elements. Little-endian
/// integers, floats and booleans in C order are read; other layouts are refused by name.
/// An array's raw elements as `.npy` lays them out: its shape, its dtype's kind (`b`, `u`, `i`,
/// `f`) and size in bytes, and the little-endian elements (checked to be all there).
pub struct Raw<'a> {
    pub shape: Vec<usize>,
    pub kind: char,
    pub size: usize,
    pub data: &'a [u8],
}

/// Reads a `.npy` array's header; its elements stay bytes (an image set need not widen).
pub fn raw(bytes: &[u8]) -> Why<Raw<'_>> {
    let rest = bytes.strip_prefix(b"\x93NUMPY").ok_or("not a .npy array (no NumPy magic)")?;
    let (header_len, start) = match rest.first() {
        Some(1) if rest.len() >= 4 => (u16::from_le_bytes([rest[2], rest[3]]) as usize, 6 + 4),
        Some(2 | 3) if rest.len() >= 6 => (u32::from_le_bytes([rest[2], rest[3], rest[4], rest[5]]) as usize, 6 + 6),
        _ => return Err("an unknown .npy version".into()),
    };
    let header = bytes.get(start..start + header_len).ok_or("its header is cut short")?;
    let header = std::str::from_utf8(header).map_err(|_| "its header is not text")?;
    let field = |key: &str| {
        let at = header.find(&format!("'{key}'")).ok_or(format!("its header has no '{key}'"))?;
        Ok::<&str, String>(header[at + key.len() + 2..].trim_start().trim_start_matches(':').trim_start())
    };
    if field("fortran_order")?.starts_with("True") {
        return Err("it is in Fortran order; save it with numpy.ascontiguousarray".into());
    }
    let descr = field("descr")?;
    let descr = descr.get(1..).and_then(|d| d.split(['\'', '"']).next()).ok_or("its dtype cannot be read")?;
    let shape = field("shape")?;
    let shape = shape.strip_prefix('(').and_then(|s| s.split(')').next()).ok_or("its shape cannot be read")?;
    let shape: Vec<usize> = shape
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| d.trim_end_matches('L').parse::<usize>().map_err(|_| format!("its shape has `{d}`")))
        .collect::<Why<_>>()?;
    let count = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).ok_or("its shape is too large")?;
    let data = &bytes[start + header_len..];
    let (order, kind, size) = {
        let mut c = descr.chars();
        let order = c.next().ok_or("an empty dtype")?;
        let kind = c.next().ok_or("an empty dtype")?;
        (order, kind, c.as_str().parse::<usize>().map_err(|_| format!("dtype `{descr}` is not understood"))?)
    };
    if !matches!((kind, size), ('b', 1) | ('u' | 'i', 1 | 2 | 4 | 8) | ('f', 4 | 8)) {
        return Err(format!("dtype `{descr}` is not read (integers, floats and booleans are)"));
    }
    if order == '>' && size > 1 {
        return Err(format!("dtype `{descr}` is big-endian; save it with .astype('<{kind}{size}')"));
    }
    let needed = count.checked_mul(size).ok_or("its shape is too large")?;
    if data.len() < needed {
        return Err(format!("it holds {} bytes, and its shape {shape:?} of `{descr}` needs {needed}", data.len()));
    }
    Ok(Raw { shape, kind, size, data: &data[..needed] })
}

/// A `.npy` file (version 1.0) of `data`, C order, dtype `descr` (`|u1`, `<f4`), its header as
/// NumPy writes it.
pub fn npy(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // Magic, version and length take 10 bytes; the header ends in a newline at a multiple of 64.
    let padded = (10 + header.len() + 1).div_ceil(64) * 64;
    header.push_str(&" ".repeat(padded - 10 - header.len() - 1));
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

/// Reads a `.npy` array.
pub fn parse_npy(bytes: &[u8]) -> Why<Array> {
    let Raw { shape, kind, size, data } = raw(bytes)?;
    let words = data.chunks_exact(size);
    let le = |w: &[u8]| {
        let mut b = [0u8; 8];
        b[..size].copy_from_slice(w);
        b
    };
    let elements = match (kind, size) {
        ('b', _) => Elements::Ints(words.map(|w| (w[0] != 0) as i64).collect()),
        ('u', _) => Elements::Ints(words.map(|w| u64::from_le_bytes(le(w)) as i64).collect()),
        ('i', _) => {
            let shift = 64 - 8 * size as u32;
            Elements::Ints(words.map(|w| (i64::from_le_bytes(le(w)) << shift) >> shift).collect())
        }
        ('f', 4) => Elements::Floats(words.map(|w| f32::from_le_bytes([w[0], w[1], w[2], w[3]]) as f64).collect()),
        _ => Elements::Floats(words.map(|w| f64::from_le_bytes(le(w))).collect()),
    };
    Ok(Array { shape, elements })
}

#[cfg(test)]
mod tests {
    /// The header NumPy 1.x and 2.x write for `numpy.save(f, numpy.zeros((2, 3), 'u1'))`.
    #[test]
    fn npy_headers_are_numpy_s() {
        let file = super::npy("|u1", &[2, 3], &[0; 6]);
        let header = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }";
        let mut expected = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
        expected.extend(format!("{header:<117}\n").as_bytes());
        expected.extend([0; 6]);
        assert_eq!(file, expected);
        let one_axis = super::npy("<f4", &[5], &[]);
        assert!(one_axis[10..].starts_with(b"{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }"));
        assert_eq!(one_axis.len() % 64, 0);
    }
}
