namespace VlmTune.Recipes.Schema;

/// <summary>
/// The recipe schema as one table, in file order. The loader reads with it, <see cref="RecipeWriter"/> writes
/// with it and <see cref="RecipeDocs"/> lists it, so keys, types, defaults and docs cannot drift apart.
/// Defaults live in the section records (<see cref="Recipe"/> and friends); this table only reads and sets them.
/// </summary>
internal static class RecipeSchema
{
    static readonly EnumValue<RecipeKind> Kinds = new(("sft", RecipeKind.Sft), ("dpo", RecipeKind.Dpo));
    static readonly EnumValue<QuantType> QuantTypes = new(("nf4", QuantType.Nf4), ("fp4", QuantType.Fp4));
    static readonly EnumValue<LoraInit> Inits = new(("kaiming", LoraInit.Kaiming), ("gaussian", LoraInit.Gaussian));
    static readonly EnumValue<Tower> Towers = new(("text", Tower.Text), ("vision", Tower.Vision), ("connector", Tower.Connector));
    static readonly EnumValue<OverflowPolicy> Overflows =
        new(("error", OverflowPolicy.Error), ("drop", OverflowPolicy.Drop), ("shrink-images", OverflowPolicy.ShrinkImages));
    static readonly EnumValue<BadRecordPolicy> BadRecords = new(("error", BadRecordPolicy.Error), ("skip", BadRecordPolicy.Skip));
    static readonly EnumValue<NonRgbImages> NonRgb =
        new(("transformers-5", NonRgbImages.Transformers5), ("transformers-4", NonRgbImages.Transformers4));
    static readonly EnumValue<ScheduleKind> Schedules =
        new(("constant", ScheduleKind.Constant), ("linear", ScheduleKind.Linear), ("cosine", ScheduleKind.Cosine));
    static readonly EnumValue<DpoLossType> DpoLosses =
        new(("sigmoid", DpoLossType.Sigmoid), ("ipo", DpoLossType.Ipo), ("hinge", DpoLossType.Hinge), ("robust", DpoLossType.Robust));
    static readonly EnumValue<ComputeDType> ComputeDTypes =
        new(("auto", ComputeDType.Auto), ("f32", ComputeDType.F32), ("bf16", ComputeDType.Bf16));
    static readonly EnumValue<ProgressMode> Progresses =
        new(("auto", ProgressMode.Auto), ("plain", ProgressMode.Plain), ("none", ProgressMode.None));

    static readonly IntValue Int = IntValue.Instance;
    static readonly DoubleValue Num = DoubleValue.Instance;
    static readonly BoolValue Bool = BoolValue.Instance;
    static readonly ListValue<string> Names = new(TextValue.Instance);

    /// <summary>Every key, in the order <see cref="Recipe.ToYaml"/> writes them.</summary>
    public static IReadOnlyList<SchemaKey> Keys { get; } =
    [
        K("kind", Kinds, r => r.Kind, (r, v) => r with { Kind = v }, "which trainer runs: supervised fine-tuning or preference optimisation"),
        K("seed", Int, r => r.Seed, (r, v) => r with { Seed = v }, "seeds LoRA init, dropout, shuffling and eval splits", Check.AtLeast(0)),
        K("device", TextValue.Instance, r => r.Device, (r, v) => r with { Device = v },
            "where to compute: auto (a CUDA GPU when one is usable, else the CPU), cpu, cuda, cuda:N", Check.DeviceName),

        K("model.path", PathValue.FromRecipeOrHub, r => r.Model.Path, (r, v) => r with { Model = r.Model with { Path = v } },
            "HF checkpoint folder (config.json, *.safetensors, tokenizer), relative to the recipe file; or a Hub id org/name[@revision], resolved through the HF cache (downloaded when missing)", required: true),

        K("quantization.enabled", Bool, r => r.Quantization.Enabled, (r, v) => r with { Quantization = r.Quantization with { Enabled = v } },
            "QLoRA: store frozen base weights in 4 bits (default true when the section is present, false when it is omitted)"),
        K("quantization.type", QuantTypes, r => r.Quantization.Type, (r, v) => r with { Quantization = r.Quantization with { Type = v } },
            "4-bit format; nf4 is the QLoRA paper's choice"),
        K("quantization.double_quant", Bool, r => r.Quantization.DoubleQuant, (r, v) => r with { Quantization = r.Quantization with { DoubleQuant = v } },
            "quantise the block constants again (saves ~0.37 bit per weight)"),
        K("quantization.blocksize", Int, r => r.Quantization.Blocksize, (r, v) => r with { Quantization = r.Quantization with { Blocksize = v } },
            "weights per absmax block; smaller is more accurate and larger", Check.PowerOfTwo(32, 4096)),
        K("quantization.skip", Names, r => r.Quantization.Skip, (r, v) => r with { Quantization = r.Quantization with { Skip = v } },
            "module names kept in 16 bits", Check.Distinct<string>()),

        K("lora.r", Int, r => r.Lora.R, (r, v) => r with { Lora = r.Lora with { R = v } },
            "adapter rank; higher adds capacity and memory", Check.AtLeast(1)),
        K("lora.alpha", Num, r => r.Lora.Alpha, (r, v) => r with { Lora = r.Lora with { Alpha = v } },
            "scaling numerator: the update is scaled by alpha / r", Check.Positive),
        K("lora.dropout", Num, r => r.Lora.Dropout, (r, v) => r with { Lora = r.Lora with { Dropout = v } },
            "dropout on the adapter input only", Check.UnitInterval),
        K("lora.targets", TargetsValue.Instance, r => r.Lora.Targets, (r, v) => r with { Lora = r.Lora with { Targets = v } },
            "PEFT target_modules: names matched as path suffixes, or all-linear (every linear but lm_head)", Check.TargetNames),
        K("lora.targets_regex", new OptionalValue<string>(TextValue.Instance), r => r.Lora.TargetsRegex,
            (r, v) => r with { Lora = r.Lora with { TargetsRegex = v } },
            "alternative to targets: one regex that must match a module path in full"),
        K("lora.towers", new ListValue<Tower>(Towers), r => r.Lora.Towers, (r, v) => r with { Lora = r.Lora with { Towers = v } },
            "only modules in these towers get adapters, even when a name also matches elsewhere", Check.NonEmptyDistinct<Tower>()),
        K("lora.use_dora", Bool, r => r.Lora.UseDora, (r, v) => r with { Lora = r.Lora with { UseDora = v } },
            "DoRA: add a trainable magnitude per output row (slower, sometimes better)"),
        K("lora.use_rslora", Bool, r => r.Lora.UseRslora, (r, v) => r with { Lora = r.Lora with { UseRslora = v } },
            "rsLoRA: scale by alpha / sqrt(r) instead of alpha / r"),
        K("lora.init", Inits, r => r.Lora.Init, (r, v) => r with { Lora = r.Lora with { Init = v } },
            "initialisation of A (B starts at zero, so step 0 equals the base model)"),
        K("lora.modules_to_save", Names, r => r.Lora.ModulesToSave, (r, v) => r with { Lora = r.Lora with { ModulesToSave = v } },
            "modules trained in full and saved with the adapter", Check.Distinct<string>()),

        K("data.train", PathValue.FromRecipeOrHub, r => r.Data.Train, (r, v) => r with { Data = r.Data with { Train = v } },
            "training data (SFT records, or preference pairs for dpo): JSONL, a .parquet file or folder of shards (relative to the recipe file), or a Hub dataset id org/name[@revision]", required: true),
        K("data.eval", new OptionalValue<string>(PathValue.FromRecipeOrHub), r => r.Data.Eval, (r, v) => r with { Data = r.Data with { Eval = v } },
            "evaluation data (as data.train), or null to split from train (eval_fraction / eval_count) or not evaluate"),
        K("data.eval_fraction", Num, r => r.Data.EvalFraction, (r, v) => r with { Data = r.Data with { EvalFraction = v } },
            "share of train held out for evaluation", Check.UnitInterval),
        K("data.eval_count", Int, r => r.Data.EvalCount, (r, v) => r with { Data = r.Data with { EvalCount = v } },
            "number of train records held out for evaluation", Check.AtLeast(0)),
        K("data.max_length", Int, r => r.Data.MaxLength, (r, v) => r with { Data = r.Data with { MaxLength = v } },
            "longest sequence in tokens, image tokens included (one full 2048-px image is 1377 tokens)", Check.AtLeast(1)),
        K("data.assistant_only", Bool, r => r.Data.AssistantOnly, (r, v) => r with { Data = r.Data with { AssistantOnly = v } },
            "loss on assistant turns only; false also trains on prompt text (image and pad tokens never)"),
        K("data.overflow", Overflows, r => r.Data.Overflow, (r, v) => r with { Data = r.Data with { Overflow = v } },
            "a record longer than max_length: stop, drop it, or shrink its images (never truncate)"),
        K("data.on_bad_record", BadRecords, r => r.Data.OnBadRecord, (r, v) => r with { Data = r.Data with { OnBadRecord = v } },
            "a malformed record: stop with its line, or skip and count it"),
        K("data.non_rgb_images", NonRgb, r => r.Data.NonRgbImages, (r, v) => r with { Data = r.Data with { NonRgbImages = v } },
            "RGBA, gray+alpha, palette, gray, 16-bit images: pixels as transformers 5.x (alpha dropped) or 4.x (white per tile, NEAREST gray/palette)"),
        K("data.allow_outside_root", Bool, r => r.Data.AllowOutsideRoot, (r, v) => r with { Data = r.Data with { AllowOutsideRoot = v } },
            "allow image paths that leave the JSONL file's folder"),
        K("data.shuffle", Bool, r => r.Data.Shuffle, (r, v) => r with { Data = r.Data with { Shuffle = v } },
            "shuffle training records each epoch (seeded)"),
        K("data.workers", AutoIntValue.Instance, r => r.Data.Workers, (r, v) => r with { Data = r.Data with { Workers = v } },
            "background threads decoding and preprocessing upcoming batches: auto (one per 4 cores, 1..8), or a count; 0 = on the training thread. Never changes the results",
            new Constraint<int>("auto or >= 0", v => v >= -1)),
        K("data.prefetch", Int, r => r.Data.Prefetch, (r, v) => r with { Data = r.Data with { Prefetch = v } },
            "micro-batches prepared ahead; each holds its processed pixels, so this bounds the data's memory", Check.AtLeast(1)),
        K("data.group_by_length", Bool, r => r.Data.GroupByLength, (r, v) => r with { Data = r.Data with { GroupByLength = v } },
            "batch records of similar token length (as HF's group_by_length): less padding; still seeded and resumable"),
        K("data.feature_cache", Bool, r => r.Data.FeatureCache, (r, v) => r with { Data = r.Data with { FeatureCache = v } },
            "when the vision tower and connector are frozen, keep each image's features on disk in the run directory; epoch 2+ and eval skip the vision tower"),
        K("data.feature_cache_mb", Int, r => r.Data.FeatureCacheMb, (r, v) => r with { Data = r.Data with { FeatureCacheMb = v } },
            "size limit of the feature cache in MiB (when full, further images are computed each time)", Check.AtLeast(1)),
        K("data.split", TextValue.Instance, r => r.Data.Split, (r, v) => r with { Data = r.Data with { Split = v } },
            "parquet folders and Hub datasets: the training split (files {split}-*.parquet or a {split}/ folder)"),
        K("data.eval_split", TextValue.Instance, r => r.Data.EvalSplit, (r, v) => r with { Data = r.Data with { EvalSplit = v } },
            "parquet folders and Hub datasets: the split read for data.eval"),
        K("data.config", new OptionalValue<string>(TextValue.Instance), r => r.Data.Config, (r, v) => r with { Data = r.Data with { Config = v } },
            "parquet folders and Hub datasets: the config (subset) folder, or null for the only one"),

        K("train.epochs", Int, r => r.Train.Epochs, (r, v) => r with { Train = r.Train with { Epochs = v } },
            "passes over the training data", Check.AtLeast(1)),
        K("train.max_steps", Int, r => r.Train.MaxSteps, (r, v) => r with { Train = r.Train with { MaxSteps = v } },
            "optimiser steps to run; > 0 overrides epochs", Check.AtLeast(0)),
        K("train.batch_size", Int, r => r.Train.BatchSize, (r, v) => r with { Train = r.Train with { BatchSize = v } },
            "records per micro-batch; higher uses more memory", Check.AtLeast(1)),
        K("train.grad_accum", Int, r => r.Train.GradAccum, (r, v) => r with { Train = r.Train with { GradAccum = v } },
            "micro-batches per optimiser step (effective batch = batch_size x grad_accum)", Check.AtLeast(1)),
        K("train.lr", Num, r => r.Train.Lr, (r, v) => r with { Train = r.Train with { Lr = v } },
            "peak learning rate (AdamW)", Check.Positive),
        K("train.weight_decay", Num, r => r.Train.WeightDecay, (r, v) => r with { Train = r.Train with { WeightDecay = v } },
            "decoupled weight decay on adapter weights", Check.NonNegative),
        K("train.betas", PairValue.Instance, r => r.Train.Betas, (r, v) => r with { Train = r.Train with { Betas = v } },
            "AdamW moment decay rates", Check.Betas),
        K("train.eps", Num, r => r.Train.Eps, (r, v) => r with { Train = r.Train with { Eps = v } },
            "AdamW denominator epsilon", Check.Positive),
        K("train.schedule", Schedules, r => r.Train.Schedule, (r, v) => r with { Train = r.Train with { Schedule = v } },
            "learning-rate shape after warm-up (linear and cosine decay to 0)"),
        K("train.warmup_steps", Int, r => r.Train.WarmupSteps, (r, v) => r with { Train = r.Train with { WarmupSteps = v } },
            "linear warm-up from 0 over this many steps", Check.AtLeast(0)),
        K("train.warmup_ratio", Num, r => r.Train.WarmupRatio, (r, v) => r with { Train = r.Train with { WarmupRatio = v } },
            "warm-up as a share of all steps (exclusive with warmup_steps)", Check.UnitInterval),
        K("train.max_grad_norm", Num, r => r.Train.MaxGradNorm, (r, v) => r with { Train = r.Train with { MaxGradNorm = v } },
            "clip the global gradient norm to this; 0 turns clipping off", Check.NonNegative),
        K("train.gradient_checkpointing", Bool, r => r.Train.GradientCheckpointing,
            (r, v) => r with { Train = r.Train with { GradientCheckpointing = v } },
            "recompute activations in backward: less memory, ~20% slower"),
        K("train.compute_dtype", ComputeDTypes, r => r.Train.ComputeDType, (r, v) => r with { Train = r.Train with { ComputeDType = v } },
            "activation dtype: bf16 (activations in bf16; LoRA weights, optimiser state and losses f32, as PEFT), f32, or auto = bf16 on CUDA, f32 on the CPU"),

        K("dpo.beta", Num, r => Dpo(r).Beta, (r, v) => r with { Dpo = Dpo(r) with { Beta = v } },
            "strength of the pull towards the reference model", Check.Positive),
        K("dpo.loss", DpoLosses, r => Dpo(r).Loss, (r, v) => r with { Dpo = Dpo(r) with { Loss = v } },
            "DPO loss variant (TRL loss_type names); ipo length-normalises inside the loss only, rewards/* and logps/* stay sequence sums (current TRL)"),
        K("dpo.label_smoothing", Num, r => Dpo(r).LabelSmoothing, (r, v) => r with { Dpo = Dpo(r) with { LabelSmoothing = v } },
            "assumed label-noise rate: cDPO with sigmoid, robust DPO with robust; 0 for ipo and hinge", Check.HalfInterval),
        K("dpo.rpo_alpha", Num, r => Dpo(r).RpoAlpha, (r, v) => r with { Dpo = Dpo(r) with { RpoAlpha = v } },
            "RPO: add this weight times the chosen answers' mean token NLL to the loss (TRL rpo_alpha; 0 = off, TRL's None; the RPO paper uses 1.0)", Check.NonNegative),
        K("dpo.cache_reference", Bool, r => Dpo(r).CacheReference, (r, v) => r with { Dpo = Dpo(r) with { CacheReference = v } },
            "compute reference log-probs once and reuse them (cache keyed by the recipe hash)"),

        K("eval.every_steps", Int, r => r.Eval.EverySteps, (r, v) => r with { Eval = r.Eval with { EverySteps = v } },
            "evaluate every N optimiser steps; 0 = only at the end", Check.AtLeast(0)),
        K("eval.batch_size", Int, r => r.Eval.BatchSize, (r, v) => r with { Eval = r.Eval with { BatchSize = v } },
            "records per evaluation batch", Check.AtLeast(1)),

        K("checkpoint.every_steps", Int, r => r.Checkpoint.EverySteps, (r, v) => r with { Checkpoint = r.Checkpoint with { EverySteps = v } },
            "save a resumable checkpoint every N optimiser steps; 0 = only at the end", Check.AtLeast(0)),
        K("checkpoint.keep_last", Int, r => r.Checkpoint.KeepLast, (r, v) => r with { Checkpoint = r.Checkpoint with { KeepLast = v } },
            "step checkpoints kept on disk (older ones are deleted)", Check.AtLeast(1)),

        K("logging.every_steps", Int, r => r.Logging.EverySteps, (r, v) => r with { Logging = r.Logging with { EverySteps = v } },
            "log metrics every N optimiser steps", Check.AtLeast(1)),
        K("logging.progress", Progresses, r => r.Logging.Progress, (r, v) => r with { Logging = r.Logging with { Progress = v } },
            "progress display: live bar on a terminal (auto), plain lines, or none"),
        K("logging.tensorboard", Bool, r => r.Logging.Tensorboard, (r, v) => r with { Logging = r.Logging with { Tensorboard = v } },
            "also write TensorBoard event files (events.out.tfevents.*) next to metrics.jsonl"),

        K("output.dir", PathValue.FromCwd, r => r.Output.Dir, (r, v) => r with { Output = r.Output with { Dir = v } },
            "run folder (adapter, checkpoints, logs, resolved recipe); relative to the current directory", required: true),
    ];

    /// <summary>Section names in file order ("" is not a section).</summary>
    public static IReadOnlyList<string> Sections { get; } = Keys.Select(k => k.Section).Where(s => s != "").Distinct().ToList();

    static readonly Dictionary<string, SchemaKey> ByPath = Keys.ToDictionary(k => k.Path);

    public static SchemaKey? Find(string path) => ByPath.GetValueOrDefault(path);

    public static bool IsSection(string name) => Sections.Contains(name);

    static DpoSection Dpo(Recipe r) => r.Dpo ?? new DpoSection();

    static SchemaKey<T> K<T>(string path, ValueType<T> type, Func<Recipe, T> get, Func<Recipe, T, Recipe> set, string meaning,
                             Constraint<T>? check = null, bool required = false) =>
        new(path, type, get, set, meaning, check, required);
}
