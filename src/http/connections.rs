//! The connection cap: at most so many open connections per client address
//! and in all. Each admitted connection holds a [`Slot`] until it closes, so
//! the count cannot drift from the sockets actually open.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::metrics::Metrics;

/// Why a connection was refused at accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Its address already holds `max_connections_per_ip` connections.
    PerAddress,
    /// The server already holds `max_connections` connections.
    Total,
}

impl Refusal {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::PerAddress => "per_address",
            Refusal::Total => "total",
        }
    }
}

#[derive(Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

pub struct Capacity {
    per_address: usize,
    total: usize,
    open: Mutex<Open>,
}

impl Capacity {
    pub fn new(total: usize, per_address: usize) -> Arc<Self> {
        Arc::new(Self {
            per_address: per_address.max(1),
            total: total.max(1),
            open: Mutex::new(Open::default()),
        })
    }

    /// A slot for a connection from `ip`, or why there is none. The slot
    /// keeps the open-connections gauge in `metrics` as well.
    pub fn admit(self: &Arc<Self>, ip: IpAddr, metrics: &Arc<Metrics>) -> Result<Slot, Refusal> {
        // An IPv4 client reached over a dual-stack socket counts as itself.
        let ip = ip.to_canonical();
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.total {
            return Err(Refusal::Total);
        }
        let mine = open.by_address.entry(ip).or_default();
        if *mine >= self.per_address {
            return Err(Refusal::PerAddress);
        }
        *mine += 1;
        open.total += 1;
        metrics.connection_opened();
        Ok(Slot {
            capacity: self.clone(),
            ip,
            metrics: metrics.clone(),
        })
    }

    fn release(&self, ip: IpAddr) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_address.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                open.by_address.remove(&ip);
            }
        }
    }

    #[cfg(test)]
    fn counts(&self, ip: IpAddr) -> (usize, usize) {
        let open = self.open.lock().unwrap();
        (open.total, open.by_address.get(&ip).copied().unwrap_or(0))
    }
}

/// One open connection's place; dropping it frees the place.
pub struct Slot {
    capacity: Arc<Capacity>,
    ip: IpAddr,
    metrics: Arc<Metrics>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.capacity.release(self.ip);
        self.metrics.connection_closed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_address_over_its_share_is_refused_while_others_still_get_in() {
        let c = Capacity::new(10, 2);
        let m = Arc::new(Metrics::default());
        let a = [
            c.admit(ip("10.0.0.1"), &m).unwrap(),
            c.admit(ip("10.0.0.1"), &m).unwrap(),
        ];
        assert_eq!(c.admit(ip("10.0.0.1"), &m).err(), Some(Refusal::PerAddress));
        assert_eq!(
            c.admit(ip("::ffff:10.0.0.1"), &m).err(),
            Some(Refusal::PerAddress),
            "an IPv4-mapped address is the same client"
        );
        let _b = c.admit(ip("10.0.0.2"), &m).unwrap();
        drop(a);
        assert_eq!(c.counts(ip("10.0.0.1")), (1, 0), "closing frees the places");
        assert!(c.admit(ip("10.0.0.1"), &m).is_ok());
    }

    #[test]
    fn the_total_cap_refuses_a_new_address_too() {
        let c = Capacity::new(2, 5);
        let m = Arc::new(Metrics::default());
        let _a = c.admit(ip("10.0.0.1"), &m).unwrap();
        let b = c.admit(ip("10.0.0.2"), &m).unwrap();
        assert_eq!(c.admit(ip("10.0.0.3"), &m).err(), Some(Refusal::Total));
        drop(b);
        assert!(c.admit(ip("10.0.0.3"), &m).is_ok());
    }
}
