//! Server-side rules with no I/O: the facts come from the database, the
//! decision is made here and tested densely.

pub mod basis;
pub mod calendar;
pub mod complaint;
pub mod consent;
pub mod deadlines;
pub mod indicators;
pub mod month_report;
pub mod report;
pub mod submissions;
pub mod ticket;
