// Layout tables: each binary structure as data (field, offset, size, type), read by the codecs,
// by docs/abi.md and by the mingw-w64 compile check, so that the three cannot drift apart.

export type FieldType =
  | 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64'
  | 'ptr' // 64-bit pointer or HANDLE (x64)
  | 'bool8' // BOOLEAN (UCHAR)
  | 'char' // CHAR[n], NUL-padded ASCII
  | 'wchar' // WCHAR[n], NUL-padded UTF-16LE
  | 'bytes' // opaque bytes (padding, reserved, nested structure)
  | 'struct'; // a nested structure, named in `ctype`

export interface FieldDef {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly type: FieldType;
  /** The C type as the source header spells it. */
  readonly ctype: string;
  readonly meaning: string;
}

export interface StructDef {
  readonly name: string;
  readonly size: number;
  /** Where the layout comes from (a public header, symbol dump, or "win11mon" for our own additions). */
  readonly source: string;
  readonly fields: readonly FieldDef[];
}

type FieldTuple = readonly [name: string, offset: number, size: number, type: FieldType, ctype: string, meaning: string];

/** Builds a StructDef and checks at load time that fields lie inside the struct and do not overlap (unions aside). */
export function defineStruct(name: string, size: number, source: string, fields: readonly FieldTuple[], opts: { union?: boolean } = {}): StructDef {
  const defs = fields.map(([fname, offset, fsize, type, ctype, meaning]) => ({ name: fname, offset, size: fsize, type, ctype, meaning }));
  let end = 0;
  for (const f of defs) {
    if (f.offset < 0 || f.offset + f.size > size) throw new Error(`layout ${name}.${f.name} lies outside the ${size}-byte struct`);
    if (!opts.union && f.offset < end) throw new Error(`layout ${name}.${f.name} overlaps the previous field`);
    end = f.offset + f.size;
  }
  return Object.freeze({ name, size, source, fields: Object.freeze(defs) });
}

/** The field of a struct by name; throws for a name the table does not have (a programming error). */
export function fieldOf(def: StructDef, name: string): FieldDef {
  const f = def.fields.find((x) => x.name === name);
  if (!f) throw new Error(`layout ${def.name} has no field ${name}`);
  return f;
}

/** Offset of a field, for code that wants named constants derived from the table. */
export function offsetOf(def: StructDef, name: string): number {
  return fieldOf(def, name).offset;
}
