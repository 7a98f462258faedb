import { createRoot } from 'react-dom/client';

function App() {
  return (
    <main>
      <h1>Hangar</h1>
      <p>The VM list, wizard and consoles are on their way. Meanwhile the hangar CLI drives the engine.</p>
    </main>
  );
}

createRoot(document.getElementById('root')!).render(<App />);
