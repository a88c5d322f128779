pub mod domain;

pub use domain::Store;
