import { Deferred, Effect, Fiber, Queue } from 'effect';
import { type Contestant, keyedState } from '../Contestant.js';

interface Req {
  readonly by: number;
  readonly reply: Deferred.Deferred<number> | null;
}

interface KeyedReq {
  readonly key: string;
  readonly by: number;
  readonly reply: Deferred.Deferred<number> | null;
}

/** Effect: an owner fiber per counter, reading a Queue of requests and answering through Deferreds. */
export const effect: Contestant = {
  name: 'effect (fiber + Queue + Deferred)',
  semantics: 'FIFO per fiber; one request at a time; replies through a Deferred; no timeouts unless added; no validation',
  open() {
    const fibers: Array<Fiber.RuntimeFiber<never, never>> = [];
    return {
      spawn() {
        const queue = Effect.runSync(Queue.unbounded<Req>());
        let total = 0;
        const loop = Effect.forever(
          Effect.flatMap(Queue.take(queue), (req) => {
            total += req.by;
            return req.reply === null ? Effect.void : Deferred.succeed(req.reply, total);
          }),
        );
        fibers.push(Effect.runFork(loop));
        return {
          ask: (by) =>
            Effect.runPromise(Effect.flatMap(Deferred.make<number>(), (reply) => Effect.zipRight(Queue.offer(queue, { by, reply }), Deferred.await(reply)))),
          tell: (by) => {
            Effect.runSync(Queue.offer(queue, { by, reply: null }));
          },
        };
      },
      spawnKeyed() {
        const queue = Effect.runSync(Queue.unbounded<KeyedReq>());
        const map = keyedState();
        const loop = Effect.forever(
          Effect.flatMap(Queue.take(queue), (req) => {
            const v = (map.get(req.key) as number) + req.by;
            map.set(req.key, v);
            return req.reply === null ? Effect.void : Deferred.succeed(req.reply, v);
          }),
        );
        fibers.push(Effect.runFork(loop));
        return {
          ask: (key, by) =>
            Effect.runPromise(
              Effect.flatMap(Deferred.make<number>(), (reply) => Effect.zipRight(Queue.offer(queue, { key, by, reply }), Deferred.await(reply))),
            ),
          tell: (key, by) => {
            Effect.runSync(Queue.offer(queue, { key, by, reply: null }));
          },
        };
      },
      async close() {
        await Effect.runPromise(Fiber.interruptAll(fibers));
      },
      pingPong(hops) {
        return Effect.runPromise(
          Effect.gen(function* () {
            const a = yield* Queue.unbounded<number>();
            const b = yield* Queue.unbounded<number>();
            const done = yield* Deferred.make<number>();
            const player = (inbox: Queue.Queue<number>, out: Queue.Queue<number>) =>
              Effect.forever(Effect.flatMap(Queue.take(inbox), (n) => (n === 0 ? Deferred.succeed(done, hops) : Queue.offer(out, n - 1))));
            const f1 = yield* Effect.fork(player(a, b));
            const f2 = yield* Effect.fork(player(b, a));
            yield* Queue.offer(a, hops);
            const n = yield* Deferred.await(done);
            yield* Fiber.interruptAll([f1, f2]);
            return n;
          }),
        );
      },
    };
  },
};
