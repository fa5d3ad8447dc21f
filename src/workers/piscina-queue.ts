// piscina refuses a task when its own queue is at its bound (its `maxQueue` option) with a plain Error whose only
// mark is its text ("Task queue is at limit"): no code, no class it exports. Rather than recognise that text, a
// pool asks before it hands piscina a task and refuses with the registry's QUEUE_FULL (RESOURCE_EXHAUSTED) itself.
import type { Piscina } from 'piscina';
import { CodedError } from '../errors/coded-error.ts';

/**
 * QUEUE_FULL when piscina's queue holds `maxQueue` tasks or more, else undefined. piscina refuses once its queue
 * holds maxQueue tasks plus as many as its threads still starting will take, so this refuses no later than piscina
 * would: a task it lets through is never refused by piscina's bound. (With the default unbounded queue it never
 * refuses.)
 */
export function piscinaQueueFull(piscina: Pick<Piscina, 'queueSize' | 'options'>): CodedError | undefined {
  if (piscina.queueSize < piscina.options.maxQueue) return undefined;
  return new CodedError('QUEUE_FULL', 'the worker queue is full; retry later');
}
