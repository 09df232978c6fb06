//! The parts a report is rendered from: a terminal table of checks and the
//! pieces of one self-contained HTML page (see `flow::quality_render`).

pub(crate) mod format;
pub(crate) mod html;
pub(crate) mod text;
