// Runs one benchmark suite in a process of its own (win11mon bench does this for each suite when it
// runs several, so that one suite's heap, garbage and JIT state do not bias the next one's figures).
// argv: suite name, '1' for --quick. Sends { results } to the parent over IPC.
const [name, quick] = process.argv.slice(2) as [string, string];
const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
const mod = (await import(new URL(`./${name}.bench.${ext}`, import.meta.url).href)) as { run(o: { quick: boolean }): Promise<unknown[]> };
const results = await mod.run({ quick: quick === '1' });
process.send!({ results }, () => process.disconnect());
