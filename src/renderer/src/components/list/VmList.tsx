export function VmList() {
  return <p>VM cards arrive here.</p>;
}
