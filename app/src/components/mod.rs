pub mod layout;
pub mod shortcuts;
pub mod text;
