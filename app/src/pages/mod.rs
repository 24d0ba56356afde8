pub mod landing;
pub mod mailbox;
pub mod not_found;
