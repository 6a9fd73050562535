// Quick speed probe: a few training steps of the default recipe, printing tokens/s.
import { defaultRecipe, train } from "../src/train/trainer.js";

const steps = Number(process.argv[2] ?? 5);
train(
  defaultRecipe({
    name: "smoke",
    out: "/tmp/r1ts-smoke",
    steps,
    logEvery: 1,
    ckptEvery: 1000,
    fp8: process.argv[3] === "fp8",
  }),
);
