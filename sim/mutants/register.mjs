// `node --import ./sim/mutants/register.mjs --import tsx ...`: installs hooks.mjs for the variant in SIM_MUTANT.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url, { data: { variant: process.env.SIM_MUTANT } });
