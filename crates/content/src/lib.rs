//! Text analysis shared by the features and the linter: what a sentence,
//! a word and a number are ([`text`]), what counts as a loop and where to cut
//! one ([`repetition`]), which facts a text states ([`facts`]), what a
//! screen description asks a screen to hold ([`screen`]), which
//! sentences of a source state a requirement ([`requirements`]), what a
//! question asks for ([`asks`]), which personal data a prompt carries and
//! how it is kept from an external provider ([`redact`]).
//! Every function here is deterministic and model-free.

pub mod asks;
pub mod facts;
pub mod quotes;
pub mod redact;
pub mod repetition;
pub mod requirements;
pub mod screen;
pub mod text;
