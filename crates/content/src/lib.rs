//! Text analysis shared by the features and the linter: what a sentence,
//! a word and a number are ([`text`]), what counts as a loop and where to cut
//! one ([`repetition`]), which facts a text states ([`facts`]).
//! Every function here is deterministic and model-free.

pub mod facts;
pub mod quotes;
pub mod repetition;
pub mod text;
