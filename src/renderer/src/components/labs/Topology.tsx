// A picture of a lab: its networks as bars, each VM as a box joined to the networks it is on,
// coloured by state, with its address and forwards under it.
import type { LabStatus } from '../../../../shared/lab/status';

const BOX_W = 150;
const BOX_H = 54;
const GAP = 24;

export function Topology({ lab }: { lab: LabStatus }) {
  const width = Math.max(1, lab.vms.length) * (BOX_W + GAP) + GAP;
  const netY = (i: number) => 110 + i * 28;
  const height = netY(lab.networks.length) + 10;
  return (
    <svg
      className="lab-topology"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`Topology of lab ${lab.name}`}
      data-testid="lab-topology"
    >
      {lab.networks.map((n, i) => (
        <g key={n.name}>
          <line x1={GAP / 2} x2={width - GAP / 2} y1={netY(i)} y2={netY(i)} className="lab-net" />
          <text x={GAP / 2} y={netY(i) - 5} className="lab-net-label">
            {n.name} {n.subnet}
            {!n.isolated && ' · not isolated (multicast on 127.0.0.1, no switch)'}
          </text>
        </g>
      ))}
      {lab.vms.map((vm, i) => {
        const x = GAP + i * (BOX_W + GAP);
        return (
          <g key={vm.vm} data-testid="lab-topology-vm">
            {vm.addresses.map((a) => {
              const net = lab.networks.findIndex((n) => n.name === a.network);
              return net < 0 ? null : (
                <line
                  key={a.network}
                  x1={x + BOX_W / 2}
                  x2={x + BOX_W / 2}
                  y1={10 + BOX_H}
                  y2={netY(net)}
                  className="lab-link"
                />
              );
            })}
            <rect x={x} y={10} width={BOX_W} height={BOX_H} rx={6} className={`lab-vm lab-vm-${vm.state}`} />
            <text x={x + 8} y={30} className="lab-vm-name">
              {vm.vm}
            </text>
            <text x={x + 8} y={48} className="lab-vm-detail">
              {vm.state}
              {vm.addresses[0] ? ` · ${vm.addresses[0].ip}` : ''}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
