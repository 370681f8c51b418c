//! Integration tests of agentos-rollup: churn on scripted git repositories, rollups of files on
//! disk, efficiency over windows.jsonl.

mod blame_oracle;
mod churn;
mod churn_history;
mod differential;
mod features;
mod features_churn;
mod files;
mod incremental;
mod sessions_base;
mod tracker_efficiency;
mod window;
