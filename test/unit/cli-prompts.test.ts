// The prompts a person gives `onesam segment`: --box / --box-mm flags, a prompts.json file, and the same prompts
// checked against an image, each error a usage error naming the flag or file entry and the bad value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFlags, UsageError } from '../../src/cli/args.ts';
import { attachNegativeBoxValues, PROMPT_FLAGS, readPromptSpecs } from '../../src/cli/segment-prompts.ts';
import { labelFlagPrompts, parseBoxFlag, parseBoxMmFlag, type PromptSpec } from '../../src/cli/prompt-spec.ts';
import { parsePromptsFile } from '../../src/cli/prompts-file.ts';
import { promptObjects, rebasePromptErrors, type DicomPromptMapping } from '../../src/cli/prompt-objects.ts';
import { planRequest } from '../../src/pipeline/plan.ts';
import { DEFAULT_ROUTING } from '../../src/pipeline/router.ts';

function usage(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UsageError, `a UsageError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('--box', () => {
  it('takes 2D, 2D-on-a-slice and 3D forms, with an optional label', () => {
    assert.deepEqual(parseBoxFlag('10,20,30,40').shape, { kind: 'box2d', x0: 10, y0: 20, x1: 30, y1: 40 });
    assert.deepEqual(parseBoxFlag(' 10.5, 20 ,30,40,7').shape, { kind: 'box2d', x0: 10.5, y0: 20, x1: 30, y1: 40, z: 7 });
    const threeD = parseBoxFlag('3:177,87,5,264,109,15');
    assert.equal(threeD.label, 3);
    assert.deepEqual(threeD.shape, { kind: 'box3d', x0: 177, y0: 87, z0: 5, x1: 264, y1: 109, z1: 15 });
    assert.equal(threeD.source, '--box "3:177,87,5,264,109,15"');
  });

  it('refuses bad values, naming the flag and the value', () => {
    usage(() => parseBoxFlag('1,2,3'), /^--box "1,2,3": needs x0,y0,x1,y1 .*; got 3 numbers$/);
    usage(() => parseBoxFlag('1,2,3,4,5,6,7'), /got 7 numbers/);
    usage(() => parseBoxFlag('1,2,x,4'), /^--box "1,2,x,4": "x" is not a number$/);
    usage(() => parseBoxFlag('1,,3,4'), /"" is not a number/);
    usage(() => parseBoxFlag('0x10,2,3,4'), /"0x10" is not a number/);
    usage(() => parseBoxFlag('1,2,3,4,2.5'), /z must be a slice index \(an integer >= 0\), got 2.5/);
    usage(() => parseBoxFlag('1,2,-1,3,4,5'), /z0 must be a slice index/);
    usage(() => parseBoxFlag('0:1,2,3,4'), /the label before ":" must be an integer in 1..65535, got "0"/);
    usage(() => parseBoxFlag('70000:1,2,3,4'), /got "70000"/);
    usage(() => parseBoxFlag('2:'), /needs x0,y0,x1,y1/);
  });

  it('numbers unlabelled boxes by position and refuses a position another box claims', () => {
    const specs = labelFlagPrompts([parseBoxFlag('1,1,5,5,0'), parseBoxFlag('7:1,1,5,5,1'), parseBoxFlag('1,1,5,5,2')]);
    assert.deepEqual(specs.map((s) => s.label), [1, 7, 3]);
    usage(() => labelFlagPrompts([parseBoxFlag('2:1,1,5,5,0'), parseBoxFlag('1,1,5,5,1')]),
      /^--box "1,1,5,5,1": takes label 2 from its position, but --box "2:1,1,5,5,0" names label 2 too/);
    // The same explicit label twice is one object drawn from two boxes: allowed.
    assert.deepEqual(labelFlagPrompts([parseBoxFlag('4:1,1,5,5,0'), parseBoxFlag('4:1,1,5,5,1')]).map((s) => s.label), [4, 4]);
  });
});

describe('--box-mm', () => {
  it('takes two corners in millimetres', () => {
    const p = parseBoxMmFlag('2:-20.5,14,-102,31,60.25,-102');
    assert.equal(p.label, 2);
    assert.deepEqual(p.shape, { kind: 'patient-box', cornerA: [-20.5, 14, -102], cornerB: [31, 60.25, -102] });
    usage(() => parseBoxMmFlag('1,2,3,4'), /^--box-mm "1,2,3,4": needs two corners xa,ya,za,xb,yb,zb in patient millimetres; got 4 numbers$/);
  });
});

describe('--prompts file', () => {
  const example = JSON.stringify({
    prompts: [
      { label: 1, box3d: { x_min: 177, y_min: 87, z_min: 5, x_max: 264, y_max: 109, z_max: 15 },
        segment: { label: 'Liver', category: { code_value: '123037004', coding_scheme: 'SCT', code_meaning: 'Anatomical Structure' }, type: { code_value: '10200004', coding_scheme: 'SCT', code_meaning: 'Liver' } } },
      { label: 2, box2d: { xMin: 30, yMin: 40, xMax: 60, yMax: 90, z: 12 } },
      { label: 3, scribble: { strokes: [{ points: [{ x: 10, y: 10, z: 3 }, { x: 20, y: 14, z: 3 }] }] } },
      { patient_box: { corner_a: [-20.5, 14, -102], corner_b: [31, 60.2, -102] } },
      { box2d: { x_min: 1, y_min: 2, x_max: 3, y_max: 4, slice: { sop_instance_uid: '1.2.3.4', frame_number: 2 } } },
    ],
  });

  it('reads the proto Prompt list, under proto or JSON field names', () => {
    const specs = parsePromptsFile(example, 'p.json');
    assert.deepEqual(specs.map((s) => s.label), [1, 2, 3, 4, 5]);
    assert.deepEqual(specs[0]!.shape, { kind: 'box3d', x0: 177, y0: 87, x1: 264, y1: 109, z0: 5, z1: 15 });
    assert.deepEqual(specs[0]!.segment, {
      label: 'Liver', category: { codeValue: '123037004', codingScheme: 'SCT', codeMeaning: 'Anatomical Structure' }, type: { codeValue: '10200004', codingScheme: 'SCT', codeMeaning: 'Liver' },
    });
    assert.deepEqual(specs[1]!.shape, { kind: 'box2d', x0: 30, y0: 40, x1: 60, y1: 90, z: 12 });
    assert.deepEqual(specs[2]!.shape, { kind: 'scribble', strokes: [[{ x: 10, y: 10, z: 3 }, { x: 20, y: 14, z: 3 }]] });
    assert.deepEqual(specs[3]!.shape, { kind: 'patient-box', cornerA: [-20.5, 14, -102], cornerB: [31, 60.2, -102] });
    assert.deepEqual(specs[4]!.shape, { kind: 'box2d', x0: 1, y0: 2, x1: 3, y1: 4, slice: { sopInstanceUid: '1.2.3.4', frameNumber: 2 } });
    assert.equal(specs[1]!.source, '--prompts p.json prompts[1]');
    // A bare list is the same.
    assert.deepEqual(parsePromptsFile(JSON.stringify([{ box2d: { x_min: 1, y_min: 2, x_max: 3, y_max: 4 } }]), 'q.json')[0]!.shape, { kind: 'box2d', x0: 1, y0: 2, x1: 3, y1: 4 });
  });

  it('refuses what the proto would not mean, naming the entry', () => {
    usage(() => parsePromptsFile('{', 'p.json'), /^--prompts p.json: not valid JSON/);
    usage(() => parsePromptsFile('{"prompt": []}', 'p.json'), /^--prompts p.json: prompt: unknown field \(known: prompts\)$/);
    usage(() => parsePromptsFile('[]', 'p.json'), /is empty/);
    usage(() => parsePromptsFile('[{"label": 1}]', 'p.json'), /^--prompts p.json: \[0\]: needs exactly one of box2d, box3d, scribble, patient_box; got none$/);
    usage(() => parsePromptsFile('{"prompts": [{"box2d": {"x_min": 1, "y_min": 2, "x_max": 3, "y_max": 4}, "box3d": {}}]}', 'p.json'), /got box2d, box3d/);
    usage(() => parsePromptsFile('{"prompts": [{"box3d": {"x_min": 1, "y_min": 2, "z_mni": 0, "x_max": 3, "y_max": 4, "z_max": 2}}]}', 'p.json'),
      /^--prompts p.json: prompts\[0\].box3d.z_mni: unknown field/);
    usage(() => parsePromptsFile('{"prompts": [{"box3d": {"x_min": 1, "y_min": 2, "x_max": 3, "y_max": 4, "z_max": 2}}]}', 'p.json'), /prompts\[0\].box3d.z_min: is required/);
    usage(() => parsePromptsFile('{"prompts": [{"box2d": {"x_min": "1", "y_min": 2, "x_max": 3, "y_max": 4}}]}', 'p.json'), /prompts\[0\].box2d.x_min: must be a number, got "1"/);
    usage(() => parsePromptsFile('{"prompts": [{"label": 0, "box2d": {"x_min": 1, "y_min": 2, "x_max": 3, "y_max": 4}}]}', 'p.json'), /prompts\[0\].label: must be an integer in 1..65535, got 0/);
    usage(() => parsePromptsFile('{"prompts": [{"box2d": {"x_min": 1, "xMin": 1, "y_min": 2, "x_max": 3, "y_max": 4}}]}', 'p.json'), /xMin: given twice/);
    usage(() => parsePromptsFile('{"prompts": [{"scribble": {"strokes": [{"points": [{"x": 1.5, "y": 2}]}]}}]}', 'p.json'), /strokes\[0\].points\[0\].x: must be an integer/);
    usage(() => parsePromptsFile('{"prompts": [{"patient_box": {"corner_a": [1, 2], "corner_b": [1, 2, 3]}}]}', 'p.json'), /corner_a: must be \[x, y, z\]/);
    usage(() => parsePromptsFile(`{"prompts": [{"box2d": {"x_min": 1, "y_min": 2, "x_max": 3, "y_max": 4}, "segment": {"label": "${'x'.repeat(65)}"}}]}`, 'p.json'), /segment.label: must be a string of at most 64/);
  });
});

describe('prompts against the image', () => {
  const volume = { depth: 20, height: 64, width: 48 };
  const image2d = { depth: 1, height: 64, width: 48 };
  const specs = (...flags: string[]): PromptSpec[] => labelFlagPrompts(flags.map(parseBoxFlag));

  it('turns boxes and scribbles into pipeline prompts', () => {
    const objects = promptObjects([...specs('1,2,30,40,5', '1,2,5,30,40,9'), ...parsePromptsFile('[{"label": 9, "scribble": {"strokes": [{"points": [{"x": 1, "y": 1, "z": 2}, {"x": 3, "y": 1, "z": 2}]}]}}]', 's.json')],
      { dims: volume, inputName: 'a NIfTI input' });
    assert.deepEqual(objects.slice(0, 2), [
      { label: 1, prompt: { kind: 'box2d', x0: 1, y0: 2, x1: 30, y1: 40, z: 5 } },
      { label: 2, prompt: { kind: 'box3d', x0: 1, y0: 2, z0: 5, x1: 30, y1: 40, z1: 9 } },
    ]);
    const plane = 64 * 48;
    assert.deepEqual([...(objects[2]!.prompt as { voxels: Uint32Array }).voxels], [2 * plane + 48 + 1, 2 * plane + 48 + 2, 2 * plane + 48 + 3]);
    assert.deepEqual(promptObjects(specs('1,2,30,40'), { dims: image2d, inputName: 'x' })[0]!.prompt, { kind: 'box2d', x0: 1, y0: 2, x1: 30, y1: 40 });
  });

  it('needs z on volumes and a volume for 3D boxes', () => {
    usage(() => promptObjects(specs('1,2,30,40'), { dims: volume, inputName: 'x' }), /^--box "1,2,30,40": a 2D box on a 20-slice volume needs its slice: x0,y0,x1,y1,z/);
    usage(() => promptObjects(specs('1,2,0,30,40,3'), { dims: image2d, inputName: 'x' }), /^--box "1,2,0,30,40,3": a 3D box needs a volume/);
  });

  it('refuses millimetres and SOP Instance UIDs without a DICOM input, and maps them with one', () => {
    const mm = labelFlagPrompts([parseBoxMmFlag('1,2,3,4,5,6')]);
    usage(() => promptObjects(mm, { dims: volume, inputName: 'a NIfTI input' }), /^--box-mm "1,2,3,4,5,6": a box in patient millimetres needs a DICOM input .*; a NIfTI input takes voxel coordinates \(--box\)$/);
    const byUid = parsePromptsFile('[{"box2d": {"x_min": 1, "y_min": 2, "x_max": 3, "y_max": 4, "slice": {"sop_instance_uid": "1.2.3"}}}]', 'u.json');
    usage(() => promptObjects(byUid, { dims: volume, inputName: 'a NIfTI input' }), /^--prompts u.json \[0\]: a slice named by SOP Instance UID needs a DICOM input/);
    const dicom: DicomPromptMapping = {
      patientBox: (a, b) => ({ kind: 'box3d', x0: a[0], y0: a[1], z0: 1, x1: b[0], y1: b[1], z1: 4 }),
      sliceIndex: (ref) => {
        if (ref.sopInstanceUid !== '1.2.3') throw new Error(`no instance ${ref.sopInstanceUid} in this series`);
        return 7;
      },
    };
    assert.deepEqual(promptObjects(mm, { dims: volume, dicom, inputName: 'a DICOM input' })[0]!.prompt, { kind: 'box3d', x0: 1, y0: 2, z0: 1, x1: 4, y1: 5, z1: 4 });
    assert.deepEqual(promptObjects(byUid, { dims: volume, dicom, inputName: 'a DICOM input' })[0]!.prompt, { kind: 'box2d', x0: 1, y0: 2, x1: 3, y1: 4, z: 7 });
    const unknown = parsePromptsFile('[{"box2d": {"x_min": 1, "y_min": 2, "x_max": 3, "y_max": 4, "slice": {"sop_instance_uid": "9.9"}}}]', 'u.json');
    usage(() => promptObjects(unknown, { dims: volume, dicom, inputName: 'a DICOM input' }), /^--prompts u.json \[0\]: no instance 9.9 in this series$/);
  });

  it("reports the pipeline's range checks against the flag that gave the prompt", () => {
    const given = specs('1,2,30,40,5', '1,2,5,60,40,9');
    const image = { ...volume, channels: 1 as const, data: new Uint8Array(20 * 64 * 48) };
    usage(() => rebasePromptErrors(() => planRequest({ requestId: 'r', image, objects: promptObjects(given, { dims: volume, inputName: 'x' }), mode: 'route' }, DEFAULT_ROUTING), given),
      /^--box "1,2,5,60,40,9": box3d: box \[1, 2, 60, 40\] extends past the image \(width 48, height 64\)$/);
    const deep = specs('1,2,30,40,25');
    usage(() => rebasePromptErrors(() => planRequest({ requestId: 'r', image, objects: promptObjects(deep, { dims: volume, inputName: 'x' }), mode: 'route' }, DEFAULT_ROUTING), deep),
      /^--box "1,2,30,40,25": box2d.z: slice 25 is outside the volume \(0..19\)$/);
    const scribble = parsePromptsFile('[{"scribble": {"strokes": [{"points": [{"x": 100, "y": 1, "z": 2}]}]}}]', 's.json');
    usage(() => promptObjects(scribble, { dims: volume, inputName: 'x' }), /^--prompts s.json \[0\]: scribble.strokes\[0\].points\[0\].x: /);
  });
});

describe('prompt sources', () => {
  const tokensOf = (args: string[]) => parseFlags(attachNegativeBoxValues(args), { ...PROMPT_FLAGS, output: { type: 'string', short: 'o' } }).tokens;

  it('reads --box and --box-mm in command-line order, negative millimetres included', async () => {
    const specs = await readPromptSpecs(undefined, tokensOf(['in.nii', '--box-mm', '-20.5,14,-102,31,60,-102', '--box', '1,2,3,4,0', '-o', 'o.npz', '--box-mm', '5:-1,-2,-3,4,5,6']));
    assert.deepEqual(specs!.map((s) => [s.label, s.shape.kind]), [[1, 'patient-box'], [2, 'box2d'], [5, 'patient-box']]);
    assert.deepEqual(attachNegativeBoxValues(['--box', '--json', '--', '--box', '-1']), ['--box', '--json', '--', '--box', '-1']);
  });

  it('takes flags or a file, not both, and neither means the input decides', async () => {
    assert.equal(await readPromptSpecs(undefined, tokensOf(['in.npz'])), undefined);
    await assert.rejects(readPromptSpecs('p.json', tokensOf(['--box', '1,2,3,4'])), /^UsageError: --box \/ --box-mm and --prompts are exclusive/);
    await assert.rejects(readPromptSpecs('/nonexistent/p.json', []), /^UsageError: --prompts \/nonexistent\/p.json: cannot read it \(ENOENT\)$/);
  });
});
