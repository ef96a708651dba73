//! NumPy files as NumPy writes them, for the tests that read them.

use std::io::Write;

/// A `.npy` file as NumPy writes it (version 1, header padded to 64 bytes).
pub use skilang_data::npz::npy;

/// An archive of `arrays`, deflated as `numpy.savez_compressed` writes it, or stored as `savez`.
pub fn npz(arrays: &[(&str, Vec<u8>)], deflated: bool) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = if deflated { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
    for (name, bytes) in arrays {
        zip.start_file(format!("{name}.npy"), zip::write::FileOptions::default().compression_method(method)).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}
