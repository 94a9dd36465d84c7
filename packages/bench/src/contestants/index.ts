import type { Contestant } from '../Contestant.js';
import { comedy } from './comedy.js';
import { effect } from './effect.js';
import { floor } from './floor.js';
import { holdfastUnvalidated, holdfastValidated } from './holdfast.js';
import { mutexMap } from './mutex.js';
import { nact } from './nact.js';
import { xstate } from './xstate.js';

/** Every contestant, the floor first (ratios are to it). */
export const contestants: Contestant[] = [floor, holdfastUnvalidated, holdfastValidated, mutexMap, nact, xstate, comedy, effect];
