// Mpire.js: GJS overrides for mpire-glib's Mpire namespace.
//
// GJS loads this file when a script imports Mpire (`gi://Mpire` or
// `imports.gi.Mpire`), from an `overrides` directory on its search path:
// `DATADIR/gjs-1.0/overrides` once installed (`/usr/local/share` and
// `/usr/share` are on it by default), `GJS_PATH=…/gjs` from a source tree.
// With it:
// - plain JavaScript arrays (and typed arrays) are accepted where the map
//   family, apply and apply_async expect a GLib.Variant, and any other
//   value is refused with a TypeError that says what was given;
// - the options and cancellable arguments may be left out;
// - the *_async methods return a Promise when given no callback;
// - set_shared_objects(), WorkerContext.set_state(),
//   MapOptions.set_progress_bar_options(), chunk_tasks() and
//   make_single_arguments() take plain values too;
// - a task may return a plain value (number, string, boolean, array,
//   object, null or undefined) instead of a GLib.Variant;
// - a ResultIter is iterable (`for (const v of pool.imap(task, input))`).
//
// SPDX-License-Identifier: MIT

const {GLib, Gio} = imports.gi;

// ---- plain JavaScript values -> GLib.Variant ---------------------------

function describe(value) {
    if (value === undefined)
        return 'undefined';
    if (typeof value !== 'object')
        return `a ${typeof value}`;
    if (isPlainObject(value))
        return 'a plain object';
    const name = value.constructor ? value.constructor.name : '';
    return name ? `an instance of ${name}` : 'an object';
}

function isPlainObject(value) {
    return value !== null && typeof value === 'object' &&
        Object.getPrototypeOf(value) === Object.prototype;
}

function toVariant(value) {
    if (value instanceof GLib.Variant)
        return value;
    if (value === null || value === undefined)
        return new GLib.Variant('mv', null);
    switch (typeof value) {
    case 'boolean':
        return new GLib.Variant('b', value);
    case 'bigint':
        return new GLib.Variant('x', value);
    case 'number':
        return Number.isSafeInteger(value)
            ? new GLib.Variant('x', value) : new GLib.Variant('d', value);
    case 'string':
        return new GLib.Variant('s', value);
    }
    if (Array.isArray(value) || ArrayBuffer.isView(value))
        return arrayVariant(Array.from(value));
    if (isPlainObject(value)) {
        const dict = {};
        for (const [key, v] of Object.entries(value))
            dict[key] = toVariant(v);
        return new GLib.Variant('a{sv}', dict);
    }
    throw new TypeError(`Mpire: cannot turn ${describe(value)} into a GLib.Variant`);
}

// An array GLib.Variant for the elements of @values: `ax` when they are
// all whole numbers, `ad` when they are all numbers, `as` for strings,
// `ab` for booleans, an array of their common type otherwise, or `av`.
function arrayVariant(values) {
    if (values.length > 0) {
        if (values.every(v => Number.isSafeInteger(v) || typeof v === 'bigint'))
            return new GLib.Variant('ax', values);
        if (values.every(v => typeof v === 'number'))
            return new GLib.Variant('ad', values);
    }
    const children = values.map(toVariant);
    const types = new Set(children.map(c => c.get_type_string()));
    if (types.size === 1) {
        const [type] = types;
        return GLib.Variant.new_array(new GLib.VariantType(type), children);
    }
    return GLib.Variant.new_array(new GLib.VariantType('v'),
        children.map(c => GLib.Variant.new_variant(c)));
}

// The GLib.Variant a pool method takes for @input: a GLib.Variant (or
// null, for a lazy source in the options) as is, an array converted;
// anything else is a mistake named clearly.
function inputVariant(func, input) {
    if (input === null || input instanceof GLib.Variant)
        return input;
    if (Array.isArray(input) || ArrayBuffer.isView(input))
        return arrayVariant(Array.from(input));
    throw new TypeError(`Mpire.${func}(): the input must be a GLib.Variant, ` +
        `a JavaScript array or null, not ${describe(input)}`);
}

// ---- the overrides ---------------------------------------------------------

// The map family: (task, input, options = null, cancellable = null).
const MAP_METHODS = ['map', 'map_unordered', 'imap_list', 'imap_unordered_list'];
// Same without a cancellable.
const ITER_METHODS = ['imap', 'imap_unordered'];
// (task, input, options, cancellable, callback): a Promise without a callback.
const ASYNC_METHODS = [
    ['map_async', 'map_finish'],
    ['map_unordered_async', 'map_unordered_finish'],
    ['imap_async', 'imap_finish'],
    ['imap_unordered_async', 'imap_unordered_finish'],
];

function overrideWorkerPool(proto) {
    for (const name of MAP_METHODS) {
        const original = proto[name];
        proto[name] = function (task, input, options = null, cancellable = null) {
            return original.call(this, task, inputVariant(`WorkerPool.${name}`, input),
                options, cancellable);
        };
    }
    for (const name of ITER_METHODS) {
        const original = proto[name];
        proto[name] = function (task, input, options = null) {
            return original.call(this, task, inputVariant(`WorkerPool.${name}`, input), options);
        };
    }
    for (const [name, finish] of ASYNC_METHODS) {
        Gio._promisify(proto, name, finish);
        const promising = proto[name];
        proto[name] = function (task, input, options = null, cancellable = null, ...callback) {
            return promising.call(this, task, inputVariant(`WorkerPool.${name}`, input),
                options, cancellable, ...callback);
        };
    }
    for (const name of ['apply', 'apply_async']) {
        const original = proto[name];
        proto[name] = function (task, args = null, options = null) {
            const variant = args instanceof GLib.Variant ? args : toVariant(args);
            return original.call(this, task, variant, options);
        };
    }
}

// Methods whose GLib.Variant argument (the only one, nullable) may be a
// plain value; null stays null (no value).
function acceptPlainValue(proto, name) {
    const original = proto[name];
    proto[name] = function (value) {
        return original.call(this, value === null ? null : toVariant(value));
    };
}

function overrideTask(Task) {
    const original = Task.new;
    Task.new = function (name, func) {
        if (typeof func !== 'function') {
            throw new TypeError(`Mpire.Task.new(): the task “${name}” needs a function, ` +
                `not ${describe(func)}`);
        }
        return original.call(this, name, (context, args) => toVariant(func(context, args)));
    };
}

function overrideResultIter(proto) {
    proto[Symbol.iterator] = function* () {
        for (let value = this.next(null); value !== null; value = this.next(null))
            yield value;
    };
    Gio._promisify(proto, 'next_async', 'next_finish');
}

function overrideUtils(Mpire) {
    const chunkTasks = Mpire.chunk_tasks;
    Mpire.chunk_tasks = (input, iterableLen, chunkSize, nSplits) =>
        chunkTasks(inputVariant('chunk_tasks', input), iterableLen, chunkSize, nSplits);
    const makeSingleArguments = Mpire.make_single_arguments;
    Mpire.make_single_arguments = input =>
        makeSingleArguments(inputVariant('make_single_arguments', input));
}

function _init() {
    overrideWorkerPool(this.WorkerPool.prototype);
    acceptPlainValue(this.WorkerPool.prototype, 'set_shared_objects');
    acceptPlainValue(this.WorkerContext.prototype, 'set_state');
    acceptPlainValue(this.MapOptions.prototype, 'set_progress_bar_options');
    overrideUtils(this);
    overrideTask(this.Task);
    overrideResultIter(this.ResultIter.prototype);
    this.toVariant = toVariant;
}
