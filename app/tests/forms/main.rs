//! Forms posted as a browser without JavaScript posts them: urlencoded bodies to the server
//! functions under `/_sf`, through the whole site router, checking the `303 See Other`, the
//! message the next page shows, and the database.
#![cfg(test)]

mod accounts;
mod analytics;
mod calendar;
mod common;
mod notifications;
mod reminders;
mod revision;
mod tasks;
