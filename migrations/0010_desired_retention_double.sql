-- Desired retention was REAL while its CHECK compares with double literals: 0.97 as REAL is
-- 0.9700000286…, above the double 0.97, so the API's documented upper bound gave a 500. It is
-- now DOUBLE PRECISION everywhere (the API's JSON numbers, the Rust f64, this column), so what
-- the API accepts the database accepts. Stored values go through numeric to keep their decimal
-- form (REAL 0.9 becomes 0.9, not 0.899999976…).
ALTER TABLE tasks DROP CONSTRAINT tasks_desired_retention_check;
ALTER TABLE tasks
    ALTER COLUMN desired_retention TYPE DOUBLE PRECISION
        USING desired_retention::numeric::double precision,
    ADD CONSTRAINT tasks_desired_retention_check CHECK (desired_retention BETWEEN 0.7 AND 0.97);
