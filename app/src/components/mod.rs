pub mod layout;
pub mod shortcuts;
