//! The one integration test binary: the real app on port 0 with a fresh
//! SQLite file per test, driven over HTTP.

mod it;
