// Operations per submit: more than MaxOperationsPerSubmit SQEs is ExcessiveOperations; the violating
// operation is the first one beyond the limit (index = the limit), as the C driver reports it.
import { InterceptReason } from '../../abi/monitor.js';
import type { ViolationSink } from '../types.js';

export function checkOperationCount(count: number, maxOps: number, mode: number, sink: ViolationSink): boolean {
  if (count <= maxOps) return false;
  return sink.hit('operationLimit', mode, InterceptReason.ExcessiveOperations, maxOps, -1, 0, 0, 0, count, maxOps);
}
