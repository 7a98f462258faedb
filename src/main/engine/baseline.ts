// The instant-reset entry points, where the benchmark looks for them.
export { setBaseline, resetToBaseline, clearBaseline } from './rollback/baseline';
