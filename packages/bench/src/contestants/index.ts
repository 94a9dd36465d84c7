import type { Contestant } from '../Contestant.js';
import { floor } from './floor.js';
import { holdfastUnvalidated, holdfastValidated } from './holdfast.js';

/** Every contestant, the floor first (ratios are to it). */
export const contestants: Contestant[] = [floor, holdfastUnvalidated, holdfastValidated];
