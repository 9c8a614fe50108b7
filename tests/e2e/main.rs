//! End-to-end tests: each starts the real `ost-linker` binary on a free loopback port with a
//! fresh SQLite file and talks HTTP to it.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

mod evidence;
mod gated;
mod open;
mod sample;
mod shutdown;
mod support;
mod transfer;
mod views;
mod writes;
