export function Wizard() {
  return <p>The creation wizard arrives here.</p>;
}
