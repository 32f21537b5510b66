import { describeChaos } from '../support/chaos-suite.ts';

describeChaos('sqlite', [1, 2]);
