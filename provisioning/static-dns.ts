import type { NetworkSettings, PlannedNode } from "../topology/types";
import { assertHostname, assertInterface, assertIpv4 } from "./checks";
import { renderScript, sh, shellQuote } from "./script";

/**
 * Pins the node's own resolvers to `network.nodeDns` (e.g. `1.1.1.1 8.8.8.8`) on the
 * NetworkManager connection active on `node.interface`, ignoring the DHCP-offered DNS.
 *
 * Why: DHCP hands out the in-cluster Pi-hole as resolver. A node resolving through it cannot pull
 * the image to restart Pi-hole while Pi-hole is down; static upstream resolvers break that loop.
 * The connection is looked up, never assumed to be "Wired connection 1".
 *
 * The change is applied with `nmcli device reapply`, never `nmcli connection up`: re-activating
 * takes the link down and up, and this script runs over SSH on that very link. `reapply` hands
 * the changed DNS settings to the running device without deactivating it. If reapply is refused
 * (an old NetworkManager), the saved settings still apply from the next boot, and the step says so.
 */
export function staticDnsScript(node: PlannedNode, network: NetworkSettings): string {
  assertHostname(node.hostname);
  assertInterface(node.interface);
  if (network.nodeDns.length === 0) {
    throw new Error("network.nodeDns is empty: the nodes need at least one static resolver");
  }
  network.nodeDns.forEach((ip) => assertIpv4(ip, "network.nodeDns entry"));
  const wanted = network.nodeDns.join(" ");
  return renderScript(
    {
      node: node.hostname,
      step: "static-dns",
      summary: `use ${wanted} for DNS on ${node.interface}`,
    },
    sh`
iface=${shellQuote(node.interface)}
want_dns=${shellQuote(wanted)}

if ! command -v nmcli >/dev/null 2>&1; then
  fail "nmcli not found, so the DNS settings of $iface cannot be managed" "Raspberry Pi OS bookworm uses NetworkManager: install it (apt-get install network-manager) and make it manage $iface."
fi
if ! conn="$(nmcli -g GENERAL.CONNECTION device show "$iface" 2>&1)"; then
  fail "nmcli cannot show device $iface: $conn" "Check the node's interface in the stack config against 'nmcli device status' on the node."
fi
conn="\${conn//\\:/:}" # nmcli -g escapes ':' in values
if [ -z "$conn" ]; then
  fail "no active NetworkManager connection on $iface" "Check 'nmcli device status' on the node: bring a connection up on $iface, or fix the node's interface in the stack config."
fi

if ! current="$(nmcli -g ipv4.dns,ipv4.ignore-auto-dns connection show "$conn" 2>&1)"; then
  fail "nmcli cannot show connection '$conn': $current" "Check 'nmcli connection show' on the node."
fi
have_dns="$(printf '%s\n' "$current" | sed -n 1p)"
have_ignore="$(printf '%s\n' "$current" | sed -n 2p)"
# nmcli lists the servers comma-separated (older releases: space-separated): compare as words.
read -r -a have_list <<<"\${have_dns//,/ }"
have_dns="\${have_list[*]}"

if [ "$have_dns" = "$want_dns" ] && [ "$have_ignore" = yes ]; then
  note "connection '$conn' on $iface already uses only $want_dns"
else
  nmcli connection modify "$conn" ipv4.dns "$want_dns" ipv4.ignore-auto-dns yes
  changed "connection '$conn' on $iface: DNS set to $want_dns (was '\${have_dns}', ignore-auto-dns was '$have_ignore')"
  # Reapply to the running device: 'connection up' would drop the link under this SSH session.
  if reapplied="$(nmcli device reapply "$iface" 2>&1)"; then
    note "applied to the running device $iface without re-activating it"
  else
    note "nmcli device reapply $iface failed ($reapplied): the DNS settings are saved and take effect at the next boot or 'nmcli connection up' run from the console"
  fi
fi
`,
  );
}
