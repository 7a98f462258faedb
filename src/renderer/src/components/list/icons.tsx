// Small inline icons for the card actions: inline SVG needs no font or asset loading, follows the
// text colour, and is hidden from screen readers (the buttons carry aria-labels).
const PATHS = {
  start: 'M5 3l8 5-8 5z',
  pause: 'M4 3h3v10H4zM9 3h3v10H9z',
  shutdown: 'M8 1.5v6M4.5 4a5 5 0 1 0 7 0',
  forceStop: 'M3.5 3.5h9v9h-9z',
  console: 'M2 3h12v8H2zM6 14h4M8 11v3',
  snapshot: 'M2 5h3l1.5-2h3L11 5h3v8H2zM8 6.5a2.5 2.5 0 1 0 0 5a2.5 2.5 0 1 0 0-5',
  // Start, with a cross: a run whose writes are thrown away.
  disposable: 'M3 3l7 5-7 5zM11 10.5l3.5 3.5M14.5 10.5L11 14',
  // Two sheets, one on the other: a copy built on the original.
  clone: 'M5.5 5.5h8v8h-8zM2.5 10.5v-8h8',
} as const;

export type IconName = keyof typeof PATHS;

// Shapes that read better filled; the rest are outlines.
const FILLED: readonly IconName[] = ['start', 'pause', 'forceStop'];

export function Icon({ name }: { name: IconName }) {
  const filled = FILLED.includes(name);
  return (
    <svg
      className="card-icon"
      viewBox="0 0 16 16"
      width="16"
      height="16"
      aria-hidden="true"
      focusable="false"
      fill={filled ? 'currentColor' : 'none'}
      stroke="currentColor"
      strokeWidth={filled ? 0 : 1.5}
      strokeLinecap="round"
      strokeLinejoin="round"
    >
      <path d={PATHS[name]} />
    </svg>
  );
}
