//! Room per key: a fair semaphore of a fixed size for each key (a client's address, a user)
//! that has some of its room held or waited for, and no entry for any other, so the map stays
//! as small as the number of keys busy right now.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Arc, Mutex, PoisonError},
};

use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore};

type Map<K> = Arc<Mutex<HashMap<K, Arc<Semaphore>>>>;

/// Each key's room of `size` places.
#[derive(Debug)]
pub struct Rooms<K> {
    size: u32,
    map: Map<K>,
}

impl<K> Clone for Rooms<K> {
    fn clone(&self) -> Self {
        Self {
            size: self.size,
            map: self.map.clone(),
        }
    }
}

/// Places taken in one key's room, given back when dropped; the key's entry goes with the last
/// of its places held or waited for.
#[derive(Debug)]
pub struct Places<K: Eq + Hash> {
    permit: Option<OwnedSemaphorePermit>,
    room: Option<Arc<Semaphore>>,
    map: Map<K>,
    key: K,
}

impl<K: Eq + Hash + Clone> Rooms<K> {
    pub fn new(size: u32) -> Self {
        Self {
            size,
            map: Arc::default(),
        }
    }

    /// Takes `places` (at most the room's size) in `key`'s room, waiting in arrival order while
    /// others of the same key hold it. A wait given up (the future dropped) leaves nothing.
    /// Fails only when the room is closed, which nothing here does.
    pub async fn take(&self, key: K, places: u32) -> Result<Places<K>, AcquireError> {
        let room = {
            let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
            map.entry(key.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(self.size as usize)))
                .clone()
        };
        // Made before the wait: if the wait is given up, dropping it still tidies the entry.
        let mut taken = Places {
            permit: None,
            room: Some(room.clone()),
            map: self.map.clone(),
            key,
        };
        taken.permit = Some(room.acquire_many_owned(places.min(self.size)).await?);
        Ok(taken)
    }

    /// Keys with places held or waited for.
    #[cfg(test)]
    pub(crate) fn busy(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl<K: Eq + Hash> Drop for Places<K> {
    fn drop(&mut self) {
        drop(self.permit.take());
        let Some(room) = self.room.take() else {
            return;
        };
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        // Let go of this share of the room under the lock (shares are taken under it too): if
        // only the map's is left, nobody else holds or waits. Two drops at once both get here in
        // turn, and the second sees the last share.
        drop(room);
        if map
            .get(&self.key)
            .is_some_and(|room| Arc::strong_count(room) == 1)
        {
            map.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A wait that should end but does not fails the test instead of hanging it.
    async fn soon<T>(
        wait: impl std::future::Future<Output = Result<T, AcquireError>>,
    ) -> Result<T, &'static str> {
        match tokio::time::timeout(Duration::from_secs(5), wait).await {
            Ok(taken) => taken.map_err(|_| "closed"),
            Err(_) => Err("still waiting"),
        }
    }

    #[tokio::test]
    async fn a_key_waits_for_its_own_room_others_do_not_and_nothing_is_left() {
        let rooms = Rooms::new(3);
        let first = soon(rooms.take("ada", 2)).await.expect("room");
        let mut next = Box::pin(rooms.take("ada", 2));
        assert!(futures::poll!(next.as_mut()).is_pending());
        let eve = soon(rooms.take("eve", 3))
            .await
            .expect("another key's room");
        assert_eq!(rooms.busy(), 2);
        drop(first);
        let next = soon(next).await.expect("room once its own are back");
        // Given up while waiting: nothing left behind either.
        let mut given_up = Box::pin(rooms.take("ada", 3));
        assert!(futures::poll!(given_up.as_mut()).is_pending());
        drop(given_up);
        // More than the room holds is the whole room, not a wait forever.
        drop((eve, next));
        let whole = soon(rooms.take("ada", 10)).await.expect("the whole room");
        drop(whole);
        assert_eq!(rooms.busy(), 0);
    }

    #[tokio::test]
    async fn a_wait_dropped_before_or_after_its_turn_came_leaves_no_entry() {
        let rooms = Rooms::new(1);
        // Given up while still waiting, its key's holder gone after it.
        let holder = soon(rooms.take("ada", 1)).await.expect("room");
        let mut waiting = Box::pin(rooms.take("ada", 1));
        assert!(futures::poll!(waiting.as_mut()).is_pending());
        drop(waiting);
        drop(holder);
        assert_eq!(rooms.busy(), 0);
        // Given its turn by the holder leaving, then dropped before it ran again.
        let holder = soon(rooms.take("bea", 1)).await.expect("room");
        let mut waiting = Box::pin(rooms.take("bea", 1));
        assert!(futures::poll!(waiting.as_mut()).is_pending());
        drop(holder);
        drop(waiting);
        assert_eq!(rooms.busy(), 0);
        // And the room is whole again.
        let whole = soon(rooms.take("bea", 1)).await.expect("the room is free");
        drop(whole);
        assert_eq!(rooms.busy(), 0);
    }
}
