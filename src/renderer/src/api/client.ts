// The typed API for components: method names and params are checked against the shared map.
import type { ApiMethod, ApiParamsOf, ApiResults } from '../../../shared/api';
import { transport } from './transport';

export function api<M extends ApiMethod>(method: M, params: ApiParamsOf<M>): Promise<ApiResults[M]> {
  return transport.call(method, params) as Promise<ApiResults[M]>;
}

export { RemoteError } from './transport';
