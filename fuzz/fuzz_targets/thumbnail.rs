//! Feeds arbitrary bytes to the photo pipeline the server runs on every upload: decoding under
//! limits, orientation, thumbnail and preview, metadata removal. Any panic, hang or runaway
//! allocation is a bug. Run with `cargo +nightly fuzz run thumbnail` from the project root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use outpost::media::image::{poster, process, strip_metadata};

fuzz_target!(|data: &[u8]| {
    let _ = process(std::io::Cursor::new(data));
    let _ = poster(data);
    for mime in ["image/jpeg", "image/png", "image/webp"] {
        let _ = strip_metadata(data.to_vec().into(), mime, 6);
    }
});
