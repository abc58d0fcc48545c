//! Lists of networks (`10.0.0.0/8, 192.0.2.7 ::1`): who may read `/metrics` without a token
//! (`GATEHOUSE_METRICS_ALLOW`). The network arithmetic is `ipnet`'s.

use ipnet::IpNet;
use std::net::IpAddr;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AddressList(Vec<IpNet>);

impl AddressList {
    /// Comma- or space-separated addresses and CIDR networks; empty means none.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split([',', ' '])
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(network)
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.0.iter().any(|network| network.contains(&ip))
    }
}

/// One item: an address (a network of one) or `address/prefix`, with the words for what is
/// wrong.
fn network(item: &str) -> Result<IpNet, String> {
    let (address, prefix) = item.split_once('/').unwrap_or((item, ""));
    let address: IpAddr = address
        .parse()
        .map_err(|_| format!("'{item}' is not an IP address or CIDR network"))?;
    if prefix.is_empty() {
        return Ok(IpNet::from(address));
    }
    let max = if address.is_ipv4() { 32 } else { 128 };
    prefix
        .parse::<u8>()
        .ok()
        .and_then(|prefix| IpNet::new(address, prefix).ok())
        .ok_or_else(|| format!("'{item}': the prefix length must be 0 to {max}"))
}

#[cfg(test)]
mod tests {
    use super::AddressList;

    #[test]
    fn networks_contain_their_addresses_and_nothing_else() {
        let list = AddressList::parse("10.0.0.0/8, 192.0.2.7 ::1").unwrap();
        for inside in ["10.1.2.3", "192.0.2.7", "::1", "::ffff:10.9.9.9"] {
            assert!(list.contains(inside.parse().unwrap()), "{inside}");
        }
        for outside in ["11.0.0.1", "192.0.2.8", "::2"] {
            assert!(!list.contains(outside.parse().unwrap()), "{outside}");
        }
        assert!(AddressList::parse("").unwrap().0.is_empty());
        assert!(AddressList::parse("0.0.0.0/0")
            .unwrap()
            .contains("203.0.113.9".parse().unwrap()));
        assert!(AddressList::parse("2001:db8::/32")
            .unwrap()
            .contains("2001:db8:1::5".parse().unwrap()));
        assert_eq!(
            AddressList::parse("10.0.0.0/33"),
            Err("'10.0.0.0/33': the prefix length must be 0 to 32".into())
        );
        assert_eq!(
            AddressList::parse("::/129"),
            Err("'::/129': the prefix length must be 0 to 128".into())
        );
        assert_eq!(
            AddressList::parse("prometheus.example.com"),
            Err("'prometheus.example.com' is not an IP address or CIDR network".into())
        );
    }
}
