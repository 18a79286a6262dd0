//! Custom operations: one file each. This file is yours; archgen writes it once.
pub mod download_artifact;
pub mod get_health;
