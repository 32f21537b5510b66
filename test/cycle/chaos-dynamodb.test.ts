import { describeChaos } from '../support/chaos-suite.ts';

describeChaos('dynamodb', [3, 4]);
